/**
 * Benchmark of the user summary page (issue 7: 2,000 requests/s or more on one core with 100,000
 * users and a million ledger rows). A real primary runs in this process (one Node thread = one
 * core) on a fresh SQLite database (or QUOTIENT_BENCH_DATABASE_URL); the database is seeded
 * directly in SQL, many users get a session, and a child process loads `GET /` over keep-alive
 * connections, cycling through those sessions, for a fixed time. Speed is printed, not asserted;
 * the run fails if any answer is not a 200 showing a balance.
 *
 *   npx tsx bench/web-summary.bench.ts [--users 100000] [--rows 1000000] [--jobs 500000] [--seconds 10] [--connections 32]
 */
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../common/logger';
import { startPrimary } from '../primary/boot';
import { loadPrimaryConfig } from '../primary/config';
import { hashPassword } from '../primary/users/passwords';
import { SessionStore } from '../web-tools/middleware/session-store';

interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  p50: number;
  p99: number;
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

/** The load generator, run in a child process so it does not share the primary's core. */
function loadMain(): void {
  process.once('message', (msg: { port: number; cookies: string[]; seconds: number; connections: number }) => {
    void (async () => {
      const http = await import('node:http');
      const agent = new http.Agent({ keepAlive: true, maxSockets: msg.connections });
      const latencies: number[] = [];
      let errors = 0;
      let next = 0;
      const end = Date.now() + msg.seconds * 1000;
      const one = (): Promise<void> =>
        new Promise((resolve) => {
          const cookie = msg.cookies[next++ % msg.cookies.length] ?? '';
          const t0 = process.hrtime.bigint();
          const req = http.get({ host: '127.0.0.1', port: msg.port, path: '/', agent, headers: { cookie } }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (body += c));
            res.on('end', () => {
              if (res.statusCode !== 200 || !body.includes('id="balance"')) errors++;
              latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
              resolve();
            });
          });
          req.on('error', () => {
            errors++;
            resolve();
          });
        });
      const worker = async (): Promise<void> => {
        while (Date.now() < end) await one();
      };
      const started = Date.now();
      await Promise.all(Array.from({ length: msg.connections }, worker));
      const seconds = (Date.now() - started) / 1000;
      latencies.sort((a, b) => a - b);
      const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
      const result: LoadResult = { requests: latencies.length, errors, seconds, p50: at(0.5), p99: at(0.99) };
      process.send?.(result, () => process.exit(0));
    })();
  });
}

async function seed(knex: import('knex').Knex, users: number, rows: number, jobs: number): Promise<void> {
  const hash = await hashPassword('bench-password-1');
  const now = Date.now();
  const perUser = Math.max(1, Math.floor(rows / users));
  const jobsPerUser = Math.floor(jobs / users);
  const CHUNK = 500;
  await knex.transaction(async (trx) => {
    const [printerId] = (await trx('printers').insert({
      server_name: 'bench',
      queue_name: 'lab',
      display_name: 'Lab',
      filters: '{}',
      created_at: now,
      updated_at: now,
    })) as number[];
    for (let from = 1; from <= users; from += CHUNK) {
      const ids = Array.from({ length: Math.min(CHUNK, users - from + 1) }, (_, i) => from + i);
      await trx('users').insert(
        ids.map((i) => ({ id: i + 1, username: `user${i}`, full_name: `User ${i}`, password_hash: hash, created_at: now, updated_at: now })),
      );
      await trx('accounts').insert(
        ids.map((i) => ({
          id: i + 1,
          type: 'personal',
          user_id: i + 1,
          name: `user${i}`,
          balance: perUser * 100,
          restricted: true,
          created_at: now,
          updated_at: now,
        })),
      );
      const ledger: Record<string, unknown>[] = [];
      for (const i of ids) {
        for (let k = 0; k < perUser; k++) {
          // Spread over the last 60 days, so about half the rows fall in the chart's window.
          ledger.push({
            account_id: i + 1,
            amount: 100,
            balance_after: (k + 1) * 100,
            type: 'adjustment',
            comment: '',
            actor: 'bench',
            idempotency_key: `bench:${i}:${k}`,
            created_at: now - (perUser - k) * Math.floor((60 * 86_400_000) / perUser),
          });
        }
      }
      for (let j = 0; j < ledger.length; j += 100) await trx('ledger').insert(ledger.slice(j, j + 100));
      // Printed jobs, half of them this month and some duplex, so the summary's sums have rows to add up.
      const printed: Record<string, unknown>[] = [];
      for (const i of ids) {
        for (let k = 0; k < jobsPerUser; k++) {
          printed.push({
            job_uuid: `urn:uuid:bench-${i}-${k}`,
            printer_id: printerId,
            user_id: i + 1,
            account_id: i + 1,
            username: `user${i}`,
            document_name: 'report.pdf',
            pages: 1 + (k % 7),
            copies: 1,
            duplex: k % 3 === 0,
            cost: 10,
            status: 'printed',
            created_at: now - k * 4 * 86_400_000,
          });
        }
      }
      for (let j = 0; j < printed.length; j += 100) await trx('print_jobs').insert(printed.slice(j, j + 100));
    }
  });
}

async function main(): Promise<void> {
  const users = arg('users', 100_000);
  const rows = arg('rows', 1_000_000);
  const jobs = arg('jobs', 500_000);
  const seconds = arg('seconds', 10);
  const connections = arg('connections', 32);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'quotient-bench-web-'));
  const config = loadPrimaryConfig({
    env: {},
    flags: {
      dataDir,
      ...(process.env.QUOTIENT_BENCH_DATABASE_URL ? { databaseUrl: process.env.QUOTIENT_BENCH_DATABASE_URL } : {}),
      httpHost: '127.0.0.1',
      httpPort: 0,
      grpcHost: '127.0.0.1',
      grpcPort: 0,
      clusterSecret: 'bench-cluster-secret-0123456789',
      adminPassword: 'bench-admin-password',
    },
  });
  process.env.NODE_ENV = 'production';
  const primary = await startPrimary(config, createLogger('bench', 'silent'), () => undefined);
  try {
    const knex = primary.services.db.knex;
    const t0 = Date.now();
    await seed(knex, users, rows, jobs);
    const ledgerRows = Number(((await knex('ledger').count({ n: '*' }).first()) as { n: number | string }).n);
    console.log(
      `seeded ${users.toLocaleString('en')} users, ${ledgerRows.toLocaleString('en')} ledger rows and ${jobs.toLocaleString('en')} print jobs in ${((Date.now() - t0) / 1000).toFixed(1)} s (${primary.services.db.dialect})`,
    );
    const store = new SessionStore({ db: primary.services.db });
    const cookies: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const userId = 2 + Math.floor((i * users) / 1000);
      cookies.push(`quotient_session=${(await store.create(userId)).token}`);
    }
    const child = fork(__filename, ['--load'], { execArgv: process.execArgv });
    const result = await new Promise<LoadResult>((resolve, reject) => {
      child.once('message', (m) => resolve(m as LoadResult));
      child.once('error', reject);
      child.send({ port: primary.httpPort, cookies, seconds: Math.min(seconds, 60), connections });
    });
    const rate = result.requests / result.seconds;
    console.log(
      `GET / (user summary): ${Math.round(rate).toLocaleString('en')} requests/s over ${result.seconds.toFixed(1)} s, ${connections} connections, p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms, ${result.errors} errors`,
    );
    console.log(`target 2,000 requests/s: ${rate >= 2000 ? 'PASS' : 'MISS'}`);
    if (result.errors > 0) process.exitCode = 1;
  } finally {
    await primary.shutdown();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--load')) loadMain();
else
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
