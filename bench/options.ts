/**
 * Command-line and environment options of `npm run bench`. Flags win over the environment:
 *   --only sqlite|mysql   (QUOTIENT_BENCH_ONLY)         run one dialect only
 *   --ops N               (QUOTIENT_BENCH_OPS)          operations per measured side of each line (default 1000)
 *   --concurrency N       (QUOTIENT_BENCH_CONCURRENCY)  debits in flight on the concurrent line
 *   QUOTIENT_BENCH_MYSQL_URL                            MySQL/MariaDB to use (database created if missing)
 */
import { parseArgs } from 'node:util';
import type { Dialect } from '../primary/db/connection';

export interface BenchOptions {
  dialects: Dialect[];
  /** Operations per side (Quotient, raw) of each measured line. */
  ops: number;
  concurrency: number;
  mysqlUrl: string;
}

// Sized so both dialects finish in well under two minutes on a small two-core machine.
export const DEFAULT_OPS = 1000;
export const DEFAULT_CONCURRENCY = 16;
export const DEFAULT_MYSQL_URL = 'mysql://root@127.0.0.1:3306/quotient_bench';

export const USAGE = `usage: npm run bench -- [--only sqlite|mysql] [--ops N] [--concurrency N]
  env: QUOTIENT_BENCH_ONLY, QUOTIENT_BENCH_OPS, QUOTIENT_BENCH_CONCURRENCY,
       QUOTIENT_BENCH_MYSQL_URL (default ${DEFAULT_MYSQL_URL})`;

export class UsageError extends Error {}

function positiveInt(raw: string | undefined, name: string, fallback: number, min: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${name} must be an integer of at least ${min}, got ${JSON.stringify(raw)}`);
  return n;
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
  return {
    help: values.help ?? false,
    dialects,
    ops: positiveInt(values.ops ?? env.QUOTIENT_BENCH_OPS, '--ops', DEFAULT_OPS, 1),
    concurrency: positiveInt(values.concurrency ?? env.QUOTIENT_BENCH_CONCURRENCY, '--concurrency', DEFAULT_CONCURRENCY, 1),
    mysqlUrl: env.QUOTIENT_BENCH_MYSQL_URL ?? DEFAULT_MYSQL_URL,
  };
}
