/**
 * The suites of `npm run bench` that live in their own script (page analysis, Squid log
 * ingestion, the quota run, the web summary page): each runs as a child process, so its memory
 * and timers never disturb another suite, and prints its own figures and PASS/MISS lines. A suite
 * fails the run only when its script exits non-zero (a wrong page count, a wrong total, an error).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { BenchOptions } from './options';

export const STANDALONE_SUITES = ['pages', 'squid', 'quota', 'web', 'backend'] as const;
export type StandaloneSuite = (typeof STANDALONE_SUITES)[number];

const SCRIPTS: Record<StandaloneSuite, { file: string; title: string; args: (opts: BenchOptions) => string[] }> = {
  pages: { file: 'page-analysis.bench.ts', title: 'page analysis: 1,000-page PDF and PostScript', args: () => [] },
  squid: { file: 'squid-parse.bench.ts', title: 'proxy ingestion: Squid log lines parsed and aggregated', args: () => [] },
  quota: {
    file: 'quota-run.bench.ts',
    title: 'quota run: 100,000 users with concurrent charges',
    args: (opts) => (opts.dialects.length === 1 ? ['--only', opts.dialects[0] as string] : []),
  },
  web: { file: 'web-summary.bench.ts', title: 'web tools: the user summary page (SQLite)', args: () => [] },
  backend: { file: 'backend-overhead.bench.ts', title: 'print secondary: CUPS backend overhead per job', args: () => [] },
};

/** Runs one standalone suite with its output passed through; resolves true when it exited 0. */
export function runStandalone(suite: StandaloneSuite, opts: BenchOptions): Promise<boolean> {
  const script = SCRIPTS[suite];
  console.log(`\n# ${script.title} (bench/${script.file})\n`);
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, script.file), ...script.args(opts)], { stdio: 'inherit', env: process.env });
  return new Promise((resolve) => {
    child.once('error', (err) => {
      console.log(`${suite}: could not start: ${err.message}`);
      resolve(false);
    });
    child.once('exit', (code, signal) => {
      if (code !== 0) console.log(`${suite}: exited with ${signal ?? code}`);
      resolve(code === 0);
    });
  });
}
