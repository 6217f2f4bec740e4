/**
 * The Quotient CUPS backend wrapper (`man backend`). A queue whose device URI is
 * `quotient:<real uri>` (e.g. `quotient:socket://printer:9100`) runs this for each job: it reads
 * the document, asks the local secondary to authorise it, and on "allow" runs the real backend
 * (`$CUPS_SERVERBIN/backend/<scheme>`) with the same arguments and the inner URI, passing its
 * status messages through to CUPS; then commits the job (with the pages the real backend
 * reported in `PAGE:` lines, when it did) or releases it. Exit codes are CUPS's: a denial cancels
 * the job (5) with the reason as the job's state message, never 1 (which would stop the queue).
 * docs/print-secondary.md describes installation and every rule below.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LocalEndpointClient } from '../../local-endpoint/client';
import type { AuthorizeAnswer, ErrorAnswer, LocalRequest } from '../../local-endpoint/protocol';
import { countPages, type DocumentAnalysis, type GhostscriptOptions } from '../analysis';
import { chargedCopies, jobIdFor, optionFacts, parseCupsOptions } from '../job-options';

/** Counts a spooled document (the page analysis module; tests may stand in another). */
export type Analyser = (file: string, opts: { contentType?: string; timeBudgetMs?: number; ghostscript?: GhostscriptOptions }) => Promise<DocumentAnalysis>;

/** CUPS backend exit codes (cups/backend.h). */
export const BackendExit = { OK: 0, FAILED: 1, AUTH_REQUIRED: 2, HOLD: 3, STOP: 4, CANCEL: 5, RETRY: 6, RETRY_CURRENT: 7 } as const;

export const DISCOVERY_LINE = 'network quotient "Unknown" "Quotient accounting wrapper"';
export const DEFAULT_SOCKET = '/var/lib/quotient/quotient.sock';
export const DEFAULT_CONFIG = '/etc/quotient/secondary.json';
/** The longest user name the primary accepts (quotient.v1.PrintJob.username). */
export const MAX_USERNAME_LENGTH = 128;

type LocalJob = Extract<LocalRequest, { op: 'authorize' }>['job'];

export interface BackendIo {
  env: NodeJS.ProcessEnv;
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  analyse?: Analyser;
  /** Aborted when CUPS cancels the job (SIGTERM): the real backend is stopped and the job released. */
  cancelled?: AbortSignal;
  /** How long to wait for the secondary's decision (it has its own deadline towards the primary). */
  decisionTimeoutMs?: number;
  /** Called just before the real backend starts (measurements). */
  onRealBackendStart?: () => void;
}

/** Where the local secondary listens: QUOTIENT_SOCKET, else the secondary's config file, else the default. */
export function resolveSocketPath(env: NodeJS.ProcessEnv): string {
  if (env.QUOTIENT_SOCKET) return env.QUOTIENT_SOCKET;
  const configFile = env.QUOTIENT_CONFIG ?? DEFAULT_CONFIG;
  try {
    const config = JSON.parse(fs.readFileSync(configFile, 'utf8')) as { socketPath?: unknown; dataDir?: unknown };
    if (typeof config.socketPath === 'string' && config.socketPath !== '') return config.socketPath;
    if (typeof config.dataDir === 'string' && config.dataDir !== '') return path.join(config.dataDir, 'quotient.sock');
  } catch {
    // no config file (or unreadable): the default
  }
  return DEFAULT_SOCKET;
}

/** The real device URI and its backend's scheme, or an error text. */
export function innerDevice(deviceUri: string | undefined): { uri: string; scheme: string } | { error: string } {
  if (deviceUri === undefined || !deviceUri.startsWith('quotient:')) return { error: `the device URI must start with "quotient:" (got "${deviceUri ?? ''}")` };
  const uri = deviceUri.slice('quotient:'.length);
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(uri)?.[1]?.toLowerCase();
  if (scheme === undefined) return { error: `"${uri}" is not a device URI such as socket://printer:9100` };
  if (scheme === 'quotient') return { error: 'the device URI names the quotient backend twice' };
  return { uri, scheme };
}

/** Text safe for one CUPS status line: no control characters, bounded. */
function statusText(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what it removes
  const controlCharacters = /[\u0000-\u001f\u007f]+/g;
  return text.replace(controlCharacters, ' ').trim().slice(0, 1000);
}

/** The uid/gid of CUPS's unprivileged user (`User lp`), for real backends CUPS itself would not run as root. */
function lpIds(): { uid: number; gid: number } | undefined {
  try {
    const line = fs
      .readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('lp:'));
    const parts = line?.split(':') ?? [];
    const uid = Number(parts[2]);
    const gid = Number(parts[3]);
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : undefined;
  } catch {
    return undefined;
  }
}

function fdIsOpen(fd: number): boolean {
  try {
    fs.fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}

interface RealBackendResult {
  code: number;
  /** All copies, from a `PAGE: total n` line; undefined when none came. */
  printedPages: number | undefined;
}

/** Runs the real backend, forwarding its stderr line by line and reading its `PAGE: total` report. */
function runRealBackend(opts: { executable: string; uri: string; args: string[]; document: string | undefined; io: BackendIo }): Promise<RealBackendResult> {
  const { io } = opts;
  const mode = fs.statSync(opts.executable).mode;
  // CUPS runs a backend as root only when no group or other can access it (0700/0500); else as lp.
  const dropTo = process.getuid?.() === 0 && (mode & 0o077) !== 0 ? lpIds() : undefined;
  const extraFds = [3, 4].map((fd) => (fdIsOpen(fd) ? fd : 'ignore'));
  return new Promise((resolve) => {
    io.onRealBackendStart?.();
    const child = spawn(opts.executable, opts.args, {
      argv0: opts.uri,
      env: { ...io.env, DEVICE_URI: opts.uri },
      stdio: [opts.document === undefined ? 'ignore' : 'pipe', 'inherit', 'pipe', ...extraFds],
      ...(dropTo ?? {}),
    });
    let pagesTotal: number | undefined;
    let partial = '';
    const onLine = (line: string): void => {
      io.stderr.write(`${line}\n`);
      // Only "PAGE: total n" is a count of printed impressions (the ipp backend and SNMP page
      // counters report it). The socket and lpd backends write "PAGE: 1 1" once per copy of a raw
      // file as a placeholder, which says nothing about pages, so "PAGE: n c" lines are not used.
      // A total of 0 is a printer that does not count (job-impressions-completed stays 0 on many
      // IPP printers), not a job that printed nothing: the analysed count stands.
      const total = /^PAGE:\s+total\s+(\d+)/.exec(line);
      if (total && Number(total[1]) > 0) pagesTotal = Number(total[1]);
    };
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      partial += text;
      let nl: number;
      while ((nl = partial.indexOf('\n')) !== -1) {
        onLine(partial.slice(0, nl));
        partial = partial.slice(nl + 1);
      }
    });
    if (opts.document !== undefined && child.stdin) {
      const input = fs.createReadStream(opts.document);
      // A backend that stops reading (it failed) ends the pipe: that is its exit code's business.
      pipeline(input, child.stdin).catch(() => undefined);
    }
    const onCancel = (): void => {
      child.kill('SIGTERM');
    };
    io.cancelled?.addEventListener('abort', onCancel, { once: true });
    let settled = false;
    const finish = (code: number): void => {
      if (settled) return;
      settled = true;
      io.cancelled?.removeEventListener('abort', onCancel);
      if (partial !== '') onLine(partial);
      resolve({ code, printedPages: pagesTotal });
    };
    child.on('error', (err) => {
      io.stderr.write(`ERROR: Unable to run the backend ${opts.executable}: ${statusText(err.message)}\n`);
      finish(BackendExit.STOP);
    });
    child.on('close', (code, signal) => finish(code ?? (signal ? BackendExit.FAILED : BackendExit.OK)));
  });
}

/** Copies stdin to a private temporary file (bounded memory; CUPS's TMPDIR), readable by `reader`'s group (Ghostscript). */
async function spoolStdin(stdin: Readable, env: NodeJS.ProcessEnv, reader: { uid: number; gid: number } | undefined): Promise<string> {
  const dir = env.TMPDIR ?? os.tmpdir();
  const file = path.join(dir, `quotient-${process.pid}-${randomBytes(6).toString('hex')}`);
  await pipeline(stdin, fs.createWriteStream(file, { mode: 0o600, flags: 'wx' }));
  if (reader) {
    fs.chownSync(file, process.getuid?.() ?? 0, reader.gid);
    fs.chmodSync(file, 0o640);
  }
  return file;
}

/** The job as the secondary's socket takes it. */
export function describeJob(input: {
  args: { cupsJobId: string; user: string; title: string; copies: string; options: string; hasFile: boolean };
  env: NodeJS.ProcessEnv;
  analysis: DocumentAnalysis;
}): LocalJob {
  const { args, env, analysis } = input;
  const facts = optionFacts(parseCupsOptions(args.options));
  const queue = (env.PRINTER ?? '').slice(0, 191) || 'unknown';
  const pages = Math.max(0, Math.min(1_000_000, Math.trunc(analysis.pages)));
  // Colour: a greyscale job prints no colour page; otherwise the analysis counts them, and when it
  // cannot, a job asked for in colour is charged as all colour.
  const analysedColour = analysis.colourPages === null ? null : Math.min(pages, Math.max(0, Math.trunc(analysis.colourPages)));
  const colourPages = facts.colour === false ? 0 : (analysedColour ?? (facts.colour === true ? pages : 0));
  const copies = chargedCopies({
    hasFileArgument: args.hasFile,
    copiesArgument: Number.parseInt(args.copies, 10),
    copiesInDocument: analysis.copiesInDocument,
  });
  const job: LocalJob = {
    jobId: jobIdFor(facts, { host: os.hostname(), queue, cupsJobId: args.cupsJobId }),
    queue,
    username: args.user || 'unknown', // runBackend refuses names longer than MAX_USERNAME_LENGTH
    documentName: args.title.slice(0, 1024),
    pages,
    colourPages,
    copies,
    duplex: facts.duplex ?? analysis.duplex ?? false,
    paperSize: facts.paperSize ?? analysis.paperSize ?? '',
    finishings: facts.finishings,
    accountCode: facts.accountCode,
    clientHost: facts.clientHost,
    submittedAtMs: facts.timeAtCreation === null ? 0 : facts.timeAtCreation * 1000,
    // Nothing could count it for certain (neither the analysis nor Ghostscript): the printer's
    // unknownPageCount rule decides, on the secondary.
    pagesKnown: !analysis.fallback,
  };
  return job;
}

/** Asks the secondary; a connection failure or timeout is an ErrorAnswer-like "unreachable". */
async function authorize(
  socketPath: string,
  job: LocalJob,
  timeoutMs: number,
): Promise<{ client: LocalEndpointClient; answer: AuthorizeAnswer | ErrorAnswer } | { unreachable: string }> {
  let client: LocalEndpointClient;
  try {
    client = await LocalEndpointClient.connect(socketPath, { timeoutMs });
  } catch (err) {
    return { unreachable: `the Quotient secondary is not answering on ${socketPath} (${(err as Error).message})` };
  }
  try {
    return { client, answer: await client.authorize(job) };
  } catch (err) {
    client.close();
    return { unreachable: `the Quotient secondary did not decide (${(err as Error).message})` };
  }
}

/** Commit or release, retried a few times on a fresh connection; false when it could not be recorded. */
async function settle(socketPath: string, first: LocalEndpointClient, step: (c: LocalEndpointClient) => Promise<{ ok: boolean }>): Promise<boolean> {
  let client: LocalEndpointClient | undefined = first;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      client ??= await LocalEndpointClient.connect(socketPath, { timeoutMs: 15_000 });
      const answer = await step(client);
      if (answer.ok) return true;
    } catch {
      // retried below
    }
    client?.close();
    client = undefined;
    await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
  }
  return false;
}

/** The whole backend: `args` are argv after the program name. Resolves with the exit code. */
export async function runBackend(args: readonly string[], io: BackendIo): Promise<number> {
  const say = (line: string): void => void io.stderr.write(`${line}\n`);
  // a function, not a narrowed expression: the signal changes while we await
  const isCancelled = (): boolean => io.cancelled?.aborted === true;
  if (args.length === 0) {
    io.stdout.write(`${DISCOVERY_LINE}\n`);
    return BackendExit.OK;
  }
  if (args.length < 5 || args.length > 6) {
    say('ERROR: Usage: quotient job-id user title copies options [file]');
    return BackendExit.FAILED;
  }
  const [cupsJobId = '', user = '', title = '', copies = '1', options = '', file] = args;
  const device = innerDevice(io.env.DEVICE_URI);
  if ('error' in device) {
    say(`ERROR: Quotient: ${statusText(device.error)}`);
    return BackendExit.STOP; // a misconfigured queue: stop it, keep the job
  }
  const serverBin = io.env.CUPS_SERVERBIN ?? '/usr/lib/cups';
  const executable = path.join(serverBin, 'backend', device.scheme);
  try {
    fs.accessSync(executable, fs.constants.X_OK);
  } catch {
    say(`ERROR: Quotient: there is no CUPS backend "${device.scheme}" (${executable})`);
    return BackendExit.STOP;
  }

  if (user.length > MAX_USERNAME_LENGTH) {
    // Cut short it could name (and charge) someone else: refuse it instead.
    say(`ERROR: Job refused by Quotient: the user name is longer than ${MAX_USERNAME_LENGTH} characters`);
    return BackendExit.CANCEL;
  }

  const started = Date.now();
  let spooled: string | undefined;
  try {
    // Ghostscript (for documents the fast analysis cannot count) runs as CUPS's lp, as CUPS's own filters do.
    const gsUser = process.getuid?.() === 0 ? lpIds() : undefined;
    const document = file ?? (spooled = await spoolStdin(io.stdin, io.env, gsUser));
    let analysis: DocumentAnalysis;
    try {
      const analyse = io.analyse ?? countPages;
      analysis = await analyse(document, {
        ...(io.env.CONTENT_TYPE ? { contentType: io.env.CONTENT_TYPE } : {}),
        timeBudgetMs: 5_000,
        ...(gsUser ? { ghostscript: { runAs: gsUser } } : {}),
      });
    } catch (err) {
      // analyseDocument never throws; a stand-in might: one page per copy, never free.
      analysis = {
        format: 'unknown',
        pages: 1,
        colourPages: null,
        copiesInDocument: 1,
        duplex: null,
        paperSize: null,
        method: 'none',
        fallback: true,
        warnings: [(err as Error).message],
      };
    }
    const job = describeJob({ args: { cupsJobId, user, title, copies, options, hasFile: file !== undefined }, env: io.env, analysis });
    say(
      `DEBUG: quotient: job ${job.jobId}: ${job.pages} page(s) x ${job.copies}, ${job.colourPages} colour, duplex ${job.duplex}, paper "${job.paperSize}" (${analysis.format}, ${analysis.method}${analysis.fallback ? ', fallback' : ''})`,
    );

    const socketPath = resolveSocketPath(io.env);
    const asked = await authorize(socketPath, job, io.decisionTimeoutMs ?? 30_000);
    if ('unreachable' in asked) {
      // Nobody to decide: treat as "hold" so CUPS retries the job later (nothing printed unaccounted).
      say(`WARNING: Quotient: ${statusText(asked.unreachable)}; the job will be retried`);
      return BackendExit.RETRY;
    }
    const { client, answer } = asked;
    if (!answer.ok) {
      client.close();
      if (answer.error.code === 'VALIDATION') {
        say(`ERROR: Job refused by Quotient: ${statusText(answer.error.message)}`);
        return BackendExit.CANCEL;
      }
      say(`WARNING: Quotient: ${statusText(answer.error.message)}; the job will be retried`);
      return BackendExit.RETRY;
    }
    if (answer.decision === 'deny') {
      client.close();
      // ERROR (and no INFO before it) so the reason stays the job's printer-state-message after it is cancelled.
      say(`ERROR: Job refused by Quotient: ${statusText(answer.reason) || 'not allowed'}`);
      return BackendExit.CANCEL;
    }
    if (answer.decision === 'review') {
      client.close();
      // CUPS_BACKEND_HOLD: the job stays pending-held (job-hold-until=indefinite) with this reason,
      // nothing reserved, until an administrator cancels or releases it (docs/print-secondary.md).
      say(`ERROR: Job held by Quotient: ${statusText(answer.reason) || 'held for an administrator'}`);
      return BackendExit.HOLD;
    }
    if (answer.decision === 'hold') {
      client.close();
      say(`WARNING: Quotient: ${statusText(answer.reason) || 'the job is held and will be retried'}`);
      return BackendExit.RETRY;
    }

    // The attempt the answer is about: the job UUID, or `<uuid>#2`... for a job printed before
    // and restarted by its owner, which is charged again (docs/print-secondary.md).
    const attemptId = answer.jobId || job.jobId;
    if (isCancelled()) {
      // CUPS cancelled the job while it waited for the decision: nothing printed, give it back.
      await settle(socketPath, client, (c) => c.release(attemptId, 'cancelled before printing'));
      client.close();
      return BackendExit.CANCEL;
    }
    say(
      `DEBUG: quotient: allowed ${attemptId} (cost ${answer.cost}${answer.offline ? ', decided offline' : ''}) in ${Date.now() - started} ms, ${Math.round(performance.now())} ms after start; starting ${executable}`,
    );
    // argv from CUPS never holds NUL; arguments from elsewhere (tests, scripts) might, and spawn refuses them.
    const realArgs = [cupsJobId, user, title, copies, options, ...(file === undefined ? [] : [file])].map((a) => a.replace(/\0/g, ''));
    const result = await runRealBackend({ executable, uri: device.uri, args: realArgs, document: file === undefined ? document : undefined, io });
    const cancelled = isCancelled();

    if (result.code === BackendExit.OK && !cancelled) {
      // A page count the secondary refuses (past the limits of common/print-job-schema.ts) would
      // leave the job uncharged and its reservation held: charge it as authorised instead.
      const ok = await settle(socketPath, client, async (c) => {
        const answer = await c.commit(attemptId, result.printedPages);
        if (answer.ok || answer.error.code !== 'VALIDATION' || result.printedPages === undefined) return answer;
        say(
          `WARNING: Quotient: the backend reported ${result.printedPages} pages, which the secondary refused (${statusText(answer.error.message)}); charging the job as authorised`,
        );
        return c.commit(attemptId);
      });
      if (!ok) say(`WARNING: Quotient: the job printed but its charge could not be recorded with the secondary ${socketPath}`);
      client.close();
      return BackendExit.OK;
    }
    // CANCEL and FAILED end the job (queues use printer-error-policy=abort-job); the retry codes
    // bring it back with the same UUID, so its reservation is kept for the next attempt.
    const ends = cancelled || result.code === BackendExit.CANCEL || result.code === BackendExit.FAILED;
    if (ends) {
      const reason = cancelled ? 'cancelled while printing' : `the backend ${device.scheme} exited with ${result.code}`;
      const ok = await settle(socketPath, client, (c) => c.release(attemptId, reason));
      if (!ok) say(`WARNING: Quotient: the reservation could not be released with the secondary ${socketPath}`);
    }
    client.close();
    return cancelled ? BackendExit.CANCEL : result.code;
  } catch (err) {
    // Never crash: an unexpected failure (unreadable spool, full TMPDIR) retries the job later.
    say(`WARNING: Quotient: ${statusText((err as Error).message)}; the job will be retried`);
    return BackendExit.RETRY;
  } finally {
    if (spooled !== undefined) fs.rmSync(spooled, { force: true });
  }
}

/** The process entry point (deploy/cups/quotient runs this file). */
export function main(): void {
  const controller = new AbortController();
  // CUPS sends SIGTERM when the job is cancelled while printing; SIGPIPE is ignored as backends do.
  process.on('SIGTERM', () => controller.abort());
  process.on('SIGPIPE', () => undefined);
  runBackend(process.argv.slice(2), { env: process.env, stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, cancelled: controller.signal })
    // exit at once: an unread stdin must not keep the process alive (stderr is synchronous on pipes)
    .then((code) => process.exit(code))
    .catch((err: unknown) => {
      process.stderr.write(`INFO: Quotient: ${(err as Error).message}\n`);
      process.exit(BackendExit.RETRY);
    });
}

if (require.main === module) main();
