/**
 * Backend overhead per job (issue 4: "time from CUPS handing over to the real backend starting").
 * Runs the Quotient CUPS backend the way cupsd does, N times: the shim `quotient
 * install-cups-backend` writes (secondary/print/cups/install.ts), with CUPS's argv (job id, user,
 * title, copies, options with a job-uuid, a 10-page PDF) and environment (DEVICE_URI=quotient:
 * bench://…, PRINTER, CUPS_SERVERBIN, CONTENT_TYPE), against a real secondary on its Unix socket
 * connected to a real primary in this process on a temporary SQLite database. The wrapped "real
 * backend" (`<ServerBin>/backend/bench`) is a two-line shell script that records the time it
 * started. A job's overhead is that time minus the moment the shim was spawned; the baseline is
 * the same script spawned directly with the same argv and environment. Each side runs once per
 * round, in turn, so drift falls on all alike.
 *
 * Two installations are measured: the built one (the backend compiled with tsc into a temporary
 * Quotient home, which the shim runs as `node dist/…/backend.js`, as after `npm run build`) and a
 * checkout without a build (the shim runs the TypeScript through tsx). Speed is printed, never
 * asserted; the run exits 1 only when a job was not charged exactly (20 pages x 10 each) or a
 * backend failed.
 *
 *   npx tsx bench/backend-overhead.bench.ts [--jobs N]   (default 30 per side, after 2 warm-ups)
 */
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { openDatabase } from '../primary/db/connection';
import { migrateLatest } from '../primary/db/migrate';
import { installCupsBackend } from '../secondary/print/cups/install';
import { startTestSecondary } from '../test/utils/secondary';
import { makeDocument } from '../test/utils/cups';
import { accountFor } from '../test/utils/fixtures';
import { startTestPrimary } from '../test/utils/primary';
import { ROOT } from '../test/utils/processes';
import { fmt, table } from './harness';

const run = promisify(execFile);
const PAGES = 10;
const COPIES = 2;
/** The default rate card: 10 per greyscale page. */
const EXPECTED_COST = PAGES * COPIES * 10;
const QUEUE = 'bench';
const USER = 'bench-user';

interface Side {
  name: string;
  /** Spawns one job; resolves with its exit code and what it wrote to stderr. */
  spawn: (args: string[], env: NodeJS.ProcessEnv) => Promise<{ code: number; stderr: string }>;
  overheadsMs: number[];
  /** From the wrapper's own log line: the authorisation (analysis, socket, primary), and when it ended after Node started. */
  authoriseMs: number[];
  afterStartMs: number[];
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

/** Wall-clock milliseconds with a fraction, on the same clock as `date +%s%N`. */
function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

function spawnProgram(file: string): Side['spawn'] {
  return (args, env) =>
    new Promise((resolve, reject) => {
      const child = spawn(file, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.once('error', reject);
      child.once('close', (code) => {
        if (code !== 0) process.stderr.write(`${file} exited ${code}:\n${stderr}\n`);
        resolve({ code: code ?? -1, stderr });
      });
    });
}

/** A Quotient home holding the compiled backend (and only what it imports), as `npm run build` leaves one. */
async function buildHome(dir: string): Promise<string> {
  const home = path.join(dir, 'built');
  fs.mkdirSync(path.join(home, 'deploy/cups'), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(home, 'package.json'));
  fs.copyFileSync(path.join(ROOT, 'deploy/cups/quotient'), path.join(home, 'deploy/cups/quotient'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(home, 'node_modules'));
  const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
  const flags = [
    '--strict',
    '--noUncheckedIndexedAccess',
    '--exactOptionalPropertyTypes',
    '--target',
    'ES2022',
    '--module',
    'commonjs',
    '--moduleResolution',
    'node',
    '--esModuleInterop',
    '--resolveJsonModule',
    '--skipLibCheck',
    '--types',
    'node',
  ];
  await run(process.execPath, [tsc, ...flags, '--rootDir', ROOT, '--outDir', path.join(home, 'dist'), path.join(ROOT, 'secondary/print/cups/backend.ts')]);
  return home;
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { jobs: { type: 'string' } }, strict: true });
  const jobs = values.jobs === undefined ? 30 : Number(values.jobs);
  if (!Number.isInteger(jobs) || jobs < 1) throw new Error(`--jobs must be a positive integer, got ${JSON.stringify(values.jobs)}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qbench-backend-'));
  const url = `sqlite:${path.join(dir, 'quotient.db')}`;
  const db = openDatabase(url, dir);
  let primary: Awaited<ReturnType<typeof startTestPrimary>> | undefined;
  let secondary: Awaited<ReturnType<typeof startTestSecondary>> | undefined;
  try {
    await migrateLatest(db);
    primary = await startTestPrimary({ dialect: 'sqlite', db, url, dataDir: dir });
    await accountFor(primary.services, { username: USER, restricted: false });
    const socketPath = path.join(dir, 'quotient.sock');
    secondary = await startTestSecondary(primary.grpcPort, path.join(dir, 'secondary'), { queues: [QUEUE], flags: { socketPath } });
    await secondary.whenSynced();

    // The ServerBin CUPS would pass: the wrapped backend records when it started, in a file per job id.
    const serverBin = path.join(dir, 'serverbin');
    const stamps = path.join(dir, 'stamps');
    fs.mkdirSync(path.join(serverBin, 'backend'), { recursive: true });
    fs.mkdirSync(stamps);
    const realBackend = path.join(serverBin, 'backend/bench');
    // 0700: run as root, as the wrapper runs a backend CUPS itself would run as root.
    fs.writeFileSync(realBackend, `#!/bin/sh\ndate +%s%N > "${stamps}/$1"\n`, { mode: 0o700 });
    const document = await makeDocument(dir, 'pdf', PAGES);

    const shims = path.join(dir, 'shims');
    const sides: Side[] = [];
    try {
      const builtDir = path.join(shims, 'built');
      fs.mkdirSync(builtDir, { recursive: true });
      sides.push({
        name: 'shim → node dist/…/backend.js (built)',
        spawn: spawnProgram(installCupsBackend({ backendDir: builtDir, home: await buildHome(dir), run: 'auto' })),
        overheadsMs: [],
        authoriseMs: [],
        afterStartMs: [],
      });
    } catch (err) {
      console.log(`(the built backend could not be compiled, so only the source is measured: ${(err as Error).message})`);
    }
    const sourceDir = path.join(shims, 'source');
    fs.mkdirSync(sourceDir, { recursive: true });
    sides.push({
      name: 'shim → tsx backend.ts (no build)',
      spawn: spawnProgram(installCupsBackend({ backendDir: sourceDir, home: ROOT, run: 'source' })),
      overheadsMs: [],
      authoriseMs: [],
      afterStartMs: [],
    });
    const baseline: Side = { name: 'the tiny backend spawned directly', spawn: spawnProgram(realBackend), overheadsMs: [], authoriseMs: [], afterStartMs: [] };
    sides.push(baseline);

    const charged: { side: string; uuid: string }[] = [];
    let failures = 0;
    let cupsJobId = 0;
    const load = os.loadavg();
    for (let round = -2; round < jobs; round++) {
      for (let k = 0; k < sides.length; k++) {
        const side = sides[(Math.max(0, round) + k) % sides.length] as Side;
        const uuid = randomUUID();
        const id = String(++cupsJobId);
        const args = [id, USER, `report-${id}.pdf`, String(COPIES), `job-uuid=urn:uuid:${uuid} media=A4 print-color-mode=monochrome sides=one-sided`, document];
        const env: NodeJS.ProcessEnv = {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          DEVICE_URI: side === baseline ? 'bench://printer' : 'quotient:bench://printer',
          PRINTER: QUEUE,
          CUPS_SERVERBIN: serverBin,
          CONTENT_TYPE: 'application/pdf',
          TMPDIR: dir,
          QUOTIENT_SOCKET: socketPath,
        };
        const spawned = nowMs();
        const { code, stderr } = await side.spawn(args, env);
        const stamp = path.join(stamps, id);
        if (code !== 0 || !fs.existsSync(stamp)) {
          failures++;
          continue;
        }
        const started = Number(fs.readFileSync(stamp, 'utf8').trim()) / 1e6;
        // "DEBUG: quotient: allowed <id> (cost 200) in 12 ms, 40 ms after start; starting …"
        const logged = /allowed \S+ \(cost \d+\) in (\d+) ms, (\d+) ms after start/.exec(stderr);
        if (round >= 0) {
          side.overheadsMs.push(started - spawned);
          if (logged) side.authoriseMs.push(Number(logged[1]));
          if (logged) side.afterStartMs.push(Number(logged[2]));
        }
        if (side !== baseline) charged.push({ side: side.name, uuid });
      }
    }

    await secondary.whenOutboxEmpty();
    const rows = (await db.knex('ledger').where({ type: 'print' }).select('idempotency_key', 'amount')) as {
      idempotency_key: string;
      amount: number | string;
    }[];
    const amounts = new Map(rows.map((r) => [r.idempotency_key, Number(r.amount)]));
    const wrong = charged.filter((c) => amounts.get(`print:urn:uuid:${c.uuid}`) !== -EXPECTED_COST);
    if (rows.length !== charged.length) failures++;

    const baselineMedian = percentile(baseline.overheadsMs, 50);
    console.log(
      `backend overhead per job: ${jobs} jobs per side (after 2 warm-ups), a ${PAGES}-page PDF x ${COPIES} copies as a file argument; load average at the start ${load.map((l) => l.toFixed(2)).join(' ')}, ${os.cpus().length} CPUs`,
    );
    console.log(
      table(
        [
          'from spawn to the real backend starting',
          'median ms',
          'p95 ms',
          'max ms',
          'median / baseline',
          'median − baseline ms',
          'authorised in ms',
          'allowed after start ms',
        ],
        sides.map((s) => {
          const median = percentile(s.overheadsMs, 50);
          const logged = (xs: number[]): string => (xs.length > 0 ? fmt(percentile(xs, 50), 0) : '-');
          return [
            s.name,
            fmt(median, 1),
            fmt(percentile(s.overheadsMs, 95), 1),
            fmt(Math.max(...s.overheadsMs), 1),
            `${fmt(median / baselineMedian, 1)}x`,
            fmt(median - baselineMedian, 1),
            logged(s.authoriseMs),
            logged(s.afterStartMs),
          ];
        }),
        [false, true, true, true, true, true, true, true],
      ),
    );
    console.log(
      "(the last two columns are medians of the wrapper's own log line: the authorisation, i.e. analysis, socket and primary, and when it ended, in ms since Node started)",
    );
    console.log(
      `charged: ${charged.length - wrong.length} of ${charged.length} jobs exactly ${EXPECTED_COST} (${rows.length} print ledger rows); ${failures} failures`,
    );
    for (const w of wrong.slice(0, 5))
      console.log(`  not charged ${EXPECTED_COST}: ${w.side} urn:uuid:${w.uuid} (${amounts.get(`print:urn:uuid:${w.uuid}`) ?? 'no row'})`);
    return wrong.length === 0 && failures === 0 ? 0 : 1;
  } finally {
    await secondary?.shutdown();
    await primary?.shutdown();
    await db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
