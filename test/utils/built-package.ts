/**
 * The built package, for e2e tests of what operators run rather than the TypeScript source:
 * `npm run build` once per test run (incremental, so seconds when dist/ is current), and the
 * built `quotient` command run as a process with a hard time limit, so a command that hangs
 * fails its test instead of stalling the suite.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './processes';

export const BUILT_CLI = path.join(ROOT, 'dist/cli/main.js');

let built: Promise<void> | undefined;

/** Runs `npm run build` in the checkout, once per test run. */
export function buildOnce(): Promise<void> {
  built ??= promisify(execFile)('npm', ['run', 'build'], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 }).then(
    () => undefined,
    (err: Error & { stdout?: string; stderr?: string }) => {
      throw new Error(`npm run build failed: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`);
    },
  );
  return built;
}

export interface Finished {
  /** Exit code; null when it was killed (by the time limit or a signal). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** From spawn to exit. */
  ms: number;
  /** Still running at the time limit (then SIGKILLed). */
  timedOut: boolean;
}

export interface Started {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when it exits, or at `limitMs` after the start, SIGKILLing it. */
  finished: Promise<Finished>;
}

/** Starts `node <cli> ...args` (the built command unless `cli` says otherwise) without a terminal. */
export function startBuilt(args: string[], env: NodeJS.ProcessEnv = {}, opts: { cli?: string; limitMs?: number; cwd?: string } = {}): Started {
  const began = Date.now();
  const child = spawn(process.execPath, [opts.cli ?? BUILT_CLI, ...args], {
    cwd: opts.cwd ?? ROOT,
    // No QUOTIENT_* from the developer's shell: each test says what it sets.
    env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('QUOTIENT_'))), QUOTIENT_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, opts.limitMs ?? 15_000);
  const finished = new Promise<Finished>((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: out, stderr: err, ms: Date.now() - began, timedOut });
    }),
  );
  return { child, stdout: () => out, stderr: () => err, finished };
}

/** Runs the built command to completion (or to the time limit). */
export function runBuilt(args: string[], env: NodeJS.ProcessEnv = {}, opts: { cli?: string; limitMs?: number; cwd?: string } = {}): Promise<Finished> {
  return startBuilt(args, env, opts).finished;
}
