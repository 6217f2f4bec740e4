/**
 * Command-line and environment options of `npm run bench`. Flags win over the environment:
 *   --only sqlite|mysql   (QUOTIENT_BENCH_ONLY)         run one dialect only
 *   --suite LIST          (QUOTIENT_BENCH_SUITE)        comma-separated suites: ledger, charge, pages, squid, quota, web, backend (default all)
 *   --ops N               (QUOTIENT_BENCH_OPS)          ledger: operations per measured side of each line (default 1000)
 *   --concurrency N       (QUOTIENT_BENCH_CONCURRENCY)  ledger: debits in flight on the concurrent line
 *   --jobs N              (QUOTIENT_BENCH_JOBS)         charge: jobs per side of each throughput line (8000 SQLite, 1500 MySQL)
 *   --batch N             (QUOTIENT_BENCH_BATCH)        charge: events per SubmitJobEvents call / stream
 *   --in-flight N         (QUOTIENT_BENCH_IN_FLIGHT)    charge: one-per-call jobs in flight
 *   --rate N              (QUOTIENT_BENCH_RATE)         charge: open-loop jobs/s of the latency line
 *   --latency-seconds N   (QUOTIENT_BENCH_LATENCY_SECONDS) charge: how long the latency line runs
 *   --replay-jobs N       (QUOTIENT_BENCH_REPLAY_JOBS)  charge: offline jobs in the catch-up replay
 *   QUOTIENT_BENCH_MYSQL_URL                            MySQL/MariaDB to use (database created if missing)
 */
import { parseArgs } from 'node:util';
import type { Dialect } from '../primary/db/connection';
import type { ChargeOptions } from './charge.bench';
import { STANDALONE_SUITES, type StandaloneSuite } from './standalone';

export type Suite = 'ledger' | 'charge' | StandaloneSuite;
export const SUITES: readonly Suite[] = ['ledger', 'charge', ...STANDALONE_SUITES];

export interface BenchOptions {
  dialects: Dialect[];
  suites: Suite[];
  /** Operations per side (Quotient, raw) of each measured line. */
  ops: number;
  concurrency: number;
  mysqlUrl: string;
  charge: ChargeOptions;
}

// Sized so both dialects finish in well under two minutes on a small two-core machine.
export const DEFAULT_OPS = 1000;
export const DEFAULT_CONCURRENCY = 16;
export const DEFAULT_MYSQL_URL = 'mysql://root@127.0.0.1:3306/quotient_bench';
// The charge path: the targets' own figures (bench/README.md) (1,000 jobs/s for the latency, 25,000 jobs replayed);
// the rest sized so the whole bench stays near two minutes on two cores.
export const DEFAULT_CHARGE: ChargeOptions = {
  jobs: { sqlite: 8000, mysql: 1500 },
  batch: 1000,
  inFlight: 64,
  rate: 1000,
  latencySeconds: 5,
  replayJobs: 25_000,
};

export const USAGE = `usage: npm run bench -- [--only sqlite|mysql] [--suite ledger,charge,pages,squid,quota,web,backend] [--ops N] [--concurrency N]
                       [--jobs N] [--batch N] [--in-flight N] [--rate N] [--latency-seconds N] [--replay-jobs N]
  env: QUOTIENT_BENCH_ONLY, QUOTIENT_BENCH_SUITE, QUOTIENT_BENCH_OPS, QUOTIENT_BENCH_CONCURRENCY,
       QUOTIENT_BENCH_JOBS, QUOTIENT_BENCH_BATCH, QUOTIENT_BENCH_IN_FLIGHT, QUOTIENT_BENCH_RATE,
       QUOTIENT_BENCH_LATENCY_SECONDS, QUOTIENT_BENCH_REPLAY_JOBS,
       QUOTIENT_BENCH_MYSQL_URL (default ${DEFAULT_MYSQL_URL})`;

export class UsageError extends Error {}

function positiveInt(raw: string | undefined, name: string, fallback: number, min: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${name} must be an integer of at least ${min}, got ${JSON.stringify(raw)}`);
  return n;
}

/** --jobs N applies to both dialects; without it each has its own default. */
function jobsOption(raw: string | undefined): ChargeOptions['jobs'] {
  if (raw === undefined || raw === '') return { ...DEFAULT_CHARGE.jobs };
  const n = positiveInt(raw, '--jobs', 0, 1);
  return { sqlite: n, mysql: n };
}

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv): BenchOptions & { help: boolean } {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        only: { type: 'string' },
        ops: { type: 'string' },
        concurrency: { type: 'string' },
        suite: { type: 'string' },
        jobs: { type: 'string' },
        batch: { type: 'string' },
        'in-flight': { type: 'string' },
        rate: { type: 'string' },
        'latency-seconds': { type: 'string' },
        'replay-jobs': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const only = values.only ?? env.QUOTIENT_BENCH_ONLY ?? '';
  let dialects: Dialect[];
  if (only === '') dialects = ['sqlite', 'mysql'];
  else if (only === 'sqlite' || only === 'mysql') dialects = [only];
  else throw new UsageError(`--only must be sqlite or mysql, got ${JSON.stringify(only)}`);
  const suite = values.suite ?? env.QUOTIENT_BENCH_SUITE ?? '';
  const suites: Suite[] = suite === '' ? [...SUITES] : (suite.split(',').map((s) => s.trim()) as Suite[]);
  const unknown = suites.filter((s) => !SUITES.includes(s));
  if (unknown.length > 0 || suites.length === 0)
    throw new UsageError(`--suite takes a comma-separated list of ${SUITES.join(', ')}; got ${JSON.stringify(suite)}`);
  const d = DEFAULT_CHARGE;
  return {
    help: values.help ?? false,
    dialects,
    ops: positiveInt(values.ops ?? env.QUOTIENT_BENCH_OPS, '--ops', DEFAULT_OPS, 1),
    concurrency: positiveInt(values.concurrency ?? env.QUOTIENT_BENCH_CONCURRENCY, '--concurrency', DEFAULT_CONCURRENCY, 1),
    mysqlUrl: env.QUOTIENT_BENCH_MYSQL_URL ?? DEFAULT_MYSQL_URL,
    suites,
    charge: {
      jobs: jobsOption(values.jobs ?? env.QUOTIENT_BENCH_JOBS),
      // The protocol allows 5,000 events per SubmitJobEvents call.
      batch: Math.min(5000, positiveInt(values.batch ?? env.QUOTIENT_BENCH_BATCH, '--batch', d.batch, 1)),
      inFlight: positiveInt(values['in-flight'] ?? env.QUOTIENT_BENCH_IN_FLIGHT, '--in-flight', d.inFlight, 1),
      rate: positiveInt(values.rate ?? env.QUOTIENT_BENCH_RATE, '--rate', d.rate, 1),
      latencySeconds: positiveInt(values['latency-seconds'] ?? env.QUOTIENT_BENCH_LATENCY_SECONDS, '--latency-seconds', d.latencySeconds, 1),
      replayJobs: positiveInt(values['replay-jobs'] ?? env.QUOTIENT_BENCH_REPLAY_JOBS, '--replay-jobs', d.replayJobs, 1),
    },
  };
}
