/**
 * Runs the real `quotient` program (cli/main.ts's buildProgram) inside the test process: the
 * same commands, options, environment variables and messages as the built command, without the
 * second or so a child process spends starting tsx. What a command prints (console, stdout and
 * stderr writes, commander's own help and errors) is captured, and its exit status is the one the
 * process would have had: process.exitCode as the command set it, commander's exit code, or 1 with
 * `error: <message>` for an error that escaped the command (as cli/main.ts does).
 *
 * A run borrows the test process's console, streams, exit code and environment, so runs go one at
 * a time, and a process started during a run would inherit the run's QUOTIENT_* variables. No
 * command reads stdin. Logs (pino) go to the test process's own output, silent in the suite.
 * Tests about the process itself (servers, signals, the built package, CUPS running the backend)
 * use test/utils/processes.ts and test/utils/built-package.ts instead.
 */
import assert from 'node:assert/strict';
import { Command, CommanderError } from 'commander';
import { buildProgram } from '../../cli/main';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Makes every command of the tree throw instead of exiting, and write where `output` says. */
function inProcess(command: Command, output: { stdout: (s: string) => void; stderr: (s: string) => void }): void {
  command.exitOverride().configureOutput({ writeOut: output.stdout, writeErr: output.stderr, outputError: (s, write) => write(s) });
  for (const sub of command.commands) inProcess(sub, output);
}

/** Sets these environment variables (undefined removes one) and returns what puts them back. */
function setEnvironment(env: NodeJS.ProcessEnv): () => void {
  const before = Object.entries(env).map(([name]) => [name, process.env[name]] as const);
  const put = (name: string, value: string | undefined): void => {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  };
  for (const [name, value] of Object.entries(env)) put(name, value);
  return () => {
    for (const [name, value] of before) put(name, value);
  };
}

const text = (args: unknown[]): string => `${args.map((a) => (typeof a === 'string' ? a : String(a))).join(' ')}\n`;

async function runOnce(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const toStdout = (s: string): void => void (stdout += s);
  const toStderr = (s: string): void => void (stderr += s);
  const { log, info, error, warn } = console;
  const writes = { out: process.stdout.write, err: process.stderr.write };
  const exitCodeBefore = process.exitCode;
  const restoreEnvironment = setEnvironment(env);
  process.exitCode = undefined;
  console.log = console.info = (...a: unknown[]) => toStdout(text(a));
  console.error = console.warn = (...a: unknown[]) => toStderr(text(a));
  process.stdout.write = ((chunk: string | Uint8Array) => (toStdout(chunk.toString()), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => (toStderr(chunk.toString()), true)) as typeof process.stderr.write;
  let code: number;
  try {
    const argv = ['node', 'quotient', ...args];
    const program = await buildProgram(argv);
    inProcess(program, { stdout: toStdout, stderr: toStderr });
    await program.parseAsync(argv);
    code = Number(process.exitCode ?? 0);
  } catch (err) {
    if (err instanceof CommanderError) {
      code = err.exitCode;
    } else {
      toStderr(`error: ${(err as Error).message}\n`);
      code = 1;
    }
  } finally {
    console.log = log;
    console.info = info;
    console.error = error;
    console.warn = warn;
    process.stdout.write = writes.out;
    process.stderr.write = writes.err;
    process.exitCode = exitCodeBefore;
    restoreEnvironment();
  }
  return { code, stdout, stderr };
}

/** Runs go one at a time: each borrows the process's console, streams and environment. */
let queue: Promise<unknown> = Promise.resolve();

/** Runs `quotient ...args` to completion in this process, with `env` set for its duration. */
export function runCliInProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const run = queue.then(() => runOnce(args, env));
  queue = run.catch(() => undefined);
  return run;
}

export interface CliChecks {
  cli: (...args: string[]) => Promise<CliResult>;
  /** Runs a command that must succeed (exit 0) and returns its stdout. */
  ok: (...args: string[]) => Promise<string>;
  /** Runs a command that must be refused: exit 1 and a message matching `pattern` on stderr. */
  fails: (pattern: RegExp, ...args: string[]) => Promise<void>;
}

/** The checks CLI tests make, on top of a way to run a command line. */
function cliChecks(run: (args: string[]) => Promise<CliResult>): CliChecks {
  const cli = (...args: string[]): Promise<CliResult> => run(args);
  return {
    cli,
    async ok(...args) {
      const r = await cli(...args);
      assert.equal(r.code, 0, `quotient ${args.join(' ')} failed: ${r.stderr}`);
      return r.stdout;
    },
    async fails(pattern, ...args) {
      const r = await cli(...args);
      assert.equal(r.code, 1, `quotient ${args.join(' ')} should fail; stdout: ${r.stdout}`);
      assert.match(r.stderr, pattern);
    },
  };
}

/**
 * `quotient` run in process against one test database (read when called, so a describe block can
 * build it before its hooks open the database).
 */
export function cliAgainst(db: { readonly url: string; readonly dataDir: string }, env: NodeJS.ProcessEnv = {}): CliChecks {
  return cliChecks((args) => runCliInProcess(args, { QUOTIENT_DATABASE_URL: db.url, QUOTIENT_DATA_DIR: db.dataDir, ...env }));
}
