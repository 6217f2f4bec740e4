/**
 * The quota-run benchmark (target in bench/README.md): one add-mode run allocating to 100,000 users, on SQLite
 * and on MariaDB/MySQL, while concurrent charges (LedgerService.debit) measure their own latency.
 * Targets: the run under 2 s in total; charges' p99 under 100 ms.
 *
 *   npx tsx bench/quota-run.bench.ts [--users N] [--chunk N] [--only sqlite|mysql]
 *
 * --chunk defaults to the service's own chunk size (what a primary uses).
 *
 * MySQL: QUOTIENT_BENCH_MYSQL_URL (default mysql://root@127.0.0.1:3306/quotient_bench_quota);
 * its schema is dropped and recreated. The users are inserted in bulk (setup, not measured).
 */
import os from 'node:os';
import { openMysql, openSqlite, createAccounts, type BenchDatabase } from './setup';
import { QuotaService } from '../primary/quotas/quota-service';

const RUN_TARGET_MS = 2000;
const P99_TARGET_MS = 100;
const CHARGERS = 4;

interface Figures {
  dialect: string;
  users: number;
  runMs: number;
  chunks: number;
  charges: number;
  p50: number;
  p99: number;
  max: number;
  quotaRows: number;
  total: number;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** Inserts `count` users with personal accounts, 400 rows per statement (SQLite allows 500 terms in knex's compound insert). */
async function bulkUsers(target: BenchDatabase, count: number): Promise<void> {
  const k = target.db.knex;
  const now = Date.now();
  const firstUser = Number(((await k('users').max({ m: 'id' }).first()) as { m: number | null } | undefined)?.m ?? 0) + 1;
  for (let i = 0; i < count; i += 400) {
    const n = Math.min(400, count - i);
    const users = Array.from({ length: n }, (_, j) => ({ id: firstUser + i + j, username: `q${i + j}`, created_at: now, updated_at: now }));
    await k('users').insert(users);
    await k('accounts').insert(users.map((u) => ({ type: 'personal', user_id: u.id, name: u.username, restricted: false, created_at: now, updated_at: now })));
  }
}

async function benchOne(target: BenchDatabase, users: number, chunkSize: number | undefined): Promise<Figures> {
  const chargeAccounts = await createAccounts(target.services, 'charger', CHARGERS);
  await bulkUsers(target, users);
  const quotas = new QuotaService({ db: target.db, timezone: 'UTC', ...(chunkSize !== undefined && { chunkSize }) });
  await quotas.create({ name: 'bench', allUsers: true, period: 'daily', mode: 'add', amount: 200 });

  const latencies: number[] = [];
  let running = true;
  let seq = 0;
  const charger = async (accountId: number): Promise<void> => {
    while (running) {
      const t0 = performance.now();
      await target.services.ledger.debit({ accountId, amount: 1, type: 'print', key: `bench-charge:${seq++}` });
      latencies.push(performance.now() - t0);
      await new Promise((resolve) => setImmediate(resolve)); // each charge arrives as its own I/O event, as over gRPC
    }
  };
  const loops = chargeAccounts.map((id) => charger(id));
  await new Promise((resolve) => setTimeout(resolve, 200)); // charges are flowing before the run starts
  latencies.length = 0;

  const t0 = performance.now();
  const run = await quotas.runNow('bench');
  const runMs = performance.now() - t0;
  running = false;
  await Promise.all(loops);

  const rows = (await target.db.knex('ledger').where({ type: 'quota' }).count({ n: '*' }).sum({ s: 'amount' }).first()) as {
    n: number | string;
    s: number | string;
  };
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    dialect: target.dialect,
    users: run.users,
    runMs,
    chunks: run.chunks,
    charges: latencies.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? 0,
    quotaRows: Number(rows.n),
    total: Number(rows.s),
  };
}

function report(f: Figures): void {
  const ok = (good: boolean): string => (good ? 'OK' : 'MISSED');
  console.log(`\n${f.dialect}: ${f.users.toLocaleString('en')} users allocated in ${f.chunks} chunks (load average now ${os.loadavg()[0]?.toFixed(2) ?? '?'})`);
  console.log(`  run total     ${f.runMs.toFixed(0).padStart(7)} ms   target < ${RUN_TARGET_MS} ms   ${ok(f.runMs < RUN_TARGET_MS)}`);
  console.log(`  charge p99    ${f.p99.toFixed(1).padStart(7)} ms   target < ${P99_TARGET_MS} ms    ${ok(f.p99 < P99_TARGET_MS)}`);
  console.log(`  charge p50    ${f.p50.toFixed(1).padStart(7)} ms   max ${f.max.toFixed(1)} ms, ${f.charges} charges during the run (${CHARGERS} in a loop)`);
  console.log(`  check         ${f.quotaRows} quota rows, total ${f.total} (expected ${f.users} rows, ${f.users * 200})`);
}

async function main(): Promise<void> {
  const users = Number(arg('--users') ?? 100_000);
  const only = arg('--only');
  const chunkArg = arg('--chunk');
  const chunk = chunkArg === undefined ? undefined : Number(chunkArg);
  console.log(
    `quota run benchmark: ${users.toLocaleString('en')} users, add mode, with ${CHARGERS} concurrent chargers; load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  if (only !== 'mysql') {
    const sqlite = await openSqlite();
    try {
      report(await benchOne(sqlite, users, chunk));
    } finally {
      await sqlite.close();
    }
  }
  if (only !== 'sqlite') {
    const mysql = await openMysql(process.env.QUOTIENT_BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/quotient_bench_quota', 8);
    if ('skipped' in mysql) {
      console.log(`\nmysql: skipped (${mysql.skipped})`);
      return;
    }
    try {
      report(await benchOne(mysql, users, chunk));
    } finally {
      await mysql.close();
    }
  }
}

main().catch((err: unknown) => {
  console.error(String((err as Error).stack ?? err).slice(0, 2000));
  process.exit(1);
});
