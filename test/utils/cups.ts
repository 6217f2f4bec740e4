/**
 * A private CUPS scheduler for end-to-end tests: cupsd in a temporary ServerRoot, listening on a
 * free loopback port, with a ServerBin of symlinks to the system's backends and filters plus
 * Quotient's backend (so nothing under /usr/lib/cups or /etc/cups changes); and a test sink, an
 * AppSocket (port 9100 style) TCP server that records what each connection sends; and a real IPP
 * printer, CUPS's `ippeveprinter`, on loopback with its spool in a temporary directory.
 * Needs the Debian packages cups, cups-client, cups-ipp-utils (ipptool, ippeveprinter),
 * cups-filters, ghostscript, dbus-daemon (for ippeveprinter), and root (cupsd runs backends as root or lp).
 * `useCupsFixture` puts them together for a describe of end-to-end tests: CUPS, the sink, a shared
 * primary and a secondary per test, with the queues set up before each test.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { buildSync } from 'esbuild';
import type { RunningPrimary } from '../../primary/boot';
import type { RunningSecondary } from '../../secondary/daemon';
import { installCupsBackend, SHIM_TEMPLATE } from '../../secondary/print/cups/install';
import { startTestSecondary } from './secondary';
import type { TestDatabase } from './databases';
import { freePort } from './ports';
import { sharedPrimary, type SharedPrimary } from './primary';
import { ROOT } from './processes';

const run = promisify(execFile);
const SYSTEM_SERVERBIN = '/usr/lib/cups';

/** The programs the CUPS tests run (Debian: cups, cups-client, cups-ipp-utils, cups-filters, ghostscript). */
const NEEDED = [
  '/usr/sbin/cupsd',
  '/usr/bin/lp',
  '/usr/sbin/lpadmin',
  '/usr/bin/lpstat',
  '/usr/bin/cancel',
  '/usr/bin/ipptool',
  '/usr/bin/gs',
  path.join(SYSTEM_SERVERBIN, 'backend/socket'),
];

/** Why the CUPS tests cannot run here, or undefined when they can (they need root to run cupsd). */
export function cupsUnavailable(): string | undefined {
  const missing = NEEDED.filter((p) => !fs.existsSync(p));
  if (missing.length > 0) return `missing ${missing.join(', ')}`;
  if (process.getuid?.() !== 0) return 'not root';
  return undefined;
}

export { freePort };

let backendHome: string | undefined;

/**
 * The CUPS backend built once per test run, so no job waits for tsx to compile TypeScript: the
 * source bundled by esbuild into one file, in a directory laid out like an installed Quotient
 * (its shim's RUN='auto' runs dist/secondary/print/cups/backend.js with plain node, as a
 * deployment's does). The directory is named by a hash of the bundle, so runs of the same source
 * share it and a changed source gets a new one.
 */
export function builtBackendHome(): string {
  if (backendHome) return backendHome;
  const bundle = buildSync({
    entryPoints: [path.join(ROOT, 'secondary/print/cups/backend.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    write: false,
    logLevel: 'error',
  });
  const code = bundle.outputFiles[0]?.text ?? '';
  const shim = fs.readFileSync(path.join(ROOT, SHIM_TEMPLATE), 'utf8');
  const hash = crypto.createHash('sha256').update(code).update(shim).digest('hex').slice(0, 16);
  const home = path.join(os.tmpdir(), `quotient-cups-backend-${hash}`);
  const script = path.join(home, 'dist/secondary/print/cups/backend.js');
  if (!fs.existsSync(script)) {
    const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'quotient-cups-backend-build-'));
    fs.mkdirSync(path.join(temp, 'dist/secondary/print/cups'), { recursive: true });
    fs.mkdirSync(path.join(temp, path.dirname(SHIM_TEMPLATE)), { recursive: true });
    fs.writeFileSync(path.join(temp, 'dist/secondary/print/cups/backend.js'), code);
    fs.writeFileSync(path.join(temp, SHIM_TEMPLATE), shim);
    fs.writeFileSync(path.join(temp, 'package.json'), '{}\n');
    fs.chmodSync(temp, 0o755); // readable by lp, for a backend CUPS runs unprivileged
    try {
      fs.renameSync(temp, home);
    } catch {
      fs.rmSync(temp, { recursive: true, force: true }); // a concurrent run made it first
    }
  }
  backendHome = home;
  return home;
}

/** Writes the quotient shim into `backendDir`, running the backend built for this run (mode 0700: CUPS runs it as root). */
export function installBuiltBackend(backendDir: string): string {
  return installCupsBackend({ backendDir, home: builtBackendHome(), run: 'auto', mode: 0o700 });
}

export interface JobInfo {
  /** pending, held, processing, stopped, canceled, aborted, completed */
  state: string;
  /** job-printer-state-message: what `lpstat -l` shows as "Status:". */
  message: string;
  reasons: string;
  /** job-uuid (urn:uuid:…): the id Quotient charges the job under. */
  uuid: string;
}

export interface PrivateCups {
  /** `127.0.0.1:<port>`, for `-h`. */
  readonly server: string;
  readonly dir: string;
  /** The backend directory CUPS uses (holds our `quotient` shim). */
  readonly backendDir: string;
  lp(args: string[], input?: Buffer | string): Promise<number>;
  lpadmin(args: string[]): Promise<void>;
  lpstat(args: string[]): Promise<string>;
  /** Cancels every job not finished yet (so none leaks into the next test). */
  cancelAll(): Promise<void>;
  job(id: number): Promise<JobInfo>;
  /** Polls the job until its state is one of `states` (or the deadline passes: rejects with the log tail). */
  waitForJob(id: number, states: string[], timeoutMs?: number): Promise<JobInfo>;
  errorLog(): string;
  /** The error_log lines about one job, without the environment dump. */
  jobLog(id: number): string;
  /** Adds a backend (a shell script) to the private ServerBin; mode 0755 runs it as lp, 0700 as root. */
  addBackend(name: string, script: string, mode?: number): string;
  stop(): Promise<void>;
}

/**
 * Starts cupsd; `env` becomes SetEnv lines in cups-files.conf (cupsd passes no other environment to
 * backends). `installBackend: false` leaves the quotient shim out of the ServerBin, for a test that
 * installs it itself (`quotient install-cups-backend --backend-dir <backendDir>`).
 */
export async function startPrivateCups(opts: { env?: Record<string, string>; installBackend?: boolean } = {}): Promise<PrivateCups> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qcups-'));
  fs.chmodSync(dir, 0o755); // backends running as lp must reach the spool and temp directories
  const port = await freePort();
  const server = `127.0.0.1:${port}`;
  const serverBin = path.join(dir, 'serverbin');
  const backendDir = path.join(serverBin, 'backend');
  for (const d of ['conf', 'spool', 'cache', 'state', 'log', 'tmp', backendDir]) fs.mkdirSync(path.resolve(dir, d), { recursive: true, mode: 0o755 });
  fs.chmodSync(path.join(dir, 'tmp'), 0o1777);
  for (const entry of fs.readdirSync(SYSTEM_SERVERBIN)) {
    if (entry !== 'backend') fs.symlinkSync(path.join(SYSTEM_SERVERBIN, entry), path.join(serverBin, entry));
  }
  for (const entry of fs.readdirSync(path.join(SYSTEM_SERVERBIN, 'backend'))) {
    fs.symlinkSync(path.join(SYSTEM_SERVERBIN, 'backend', entry), path.join(backendDir, entry));
  }
  if (opts.installBackend !== false) installBuiltBackend(backendDir);

  const setEnv = Object.entries(opts.env ?? {}).map(([k, v]) => `SetEnv ${k} ${v}`);
  fs.writeFileSync(
    path.join(dir, 'conf/cupsd.conf'),
    [
      `Listen ${server}`,
      'Browsing No',
      'LogLevel debug',
      'DefaultAuthType None',
      'WebInterface No',
      // A backend exiting 6 (retry) is retried after JobRetryInterval seconds, at most JobRetryLimit times.
      'JobRetryInterval 1',
      'JobRetryLimit 1000',
      'PreserveJobHistory Yes',
      'MaxJobs 0',
      '<Location />',
      '  Order allow,deny',
      '  Allow all',
      '</Location>',
      '<Policy default>',
      '  <Limit All>',
      '    Order deny,allow',
      '  </Limit>',
      '</Policy>',
      '',
    ].join('\n'),
  );
  fs.writeFileSync(
    path.join(dir, 'conf/cups-files.conf'),
    [
      'FileDevice No',
      `ServerRoot ${path.join(dir, 'conf')}`,
      `ServerBin ${serverBin}`,
      `RequestRoot ${path.join(dir, 'spool')}`,
      `CacheDir ${path.join(dir, 'cache')}`,
      `StateDir ${path.join(dir, 'state')}`,
      `TempDir ${path.join(dir, 'tmp')}`,
      `ErrorLog ${path.join(dir, 'log/error_log')}`,
      `AccessLog ${path.join(dir, 'log/access_log')}`,
      `PageLog ${path.join(dir, 'log/page_log')}`,
      'DataDir /usr/share/cups',
      'SystemGroup root',
      'User lp',
      'Group lp',
      // SetEnv belongs here: in cupsd.conf CUPS 2.4 logs "Please move" and ignores it.
      ...setEnv,
      '',
    ].join('\n'),
  );

  const child: ChildProcess = spawn('/usr/sbin/cupsd', ['-f', '-c', path.join(dir, 'conf/cupsd.conf'), '-s', path.join(dir, 'conf/cups-files.conf')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const errorLog = (): string => {
    try {
      return fs.readFileSync(path.join(dir, 'log/error_log'), 'utf8');
    } catch {
      return '';
    }
  };

  const cups: PrivateCups = {
    server,
    dir,
    backendDir,
    lp(args, input) {
      return new Promise((resolve, reject) => {
        const p = execFile('lp', ['-h', server, ...args], (err, stdout, errText) => {
          if (err) return reject(new Error(`lp ${args.join(' ')}: ${errText || err.message}`));
          const m = /request id is \S+-(\d+)/.exec(stdout);
          if (!m) return reject(new Error(`lp printed no job id: ${stdout}`));
          resolve(Number(m[1]));
        });
        p.stdin?.end(input ?? '');
      });
    },
    async lpadmin(args) {
      await run('lpadmin', ['-h', server, ...args]);
    },
    async lpstat(args) {
      return (await run('lpstat', ['-h', server, ...args])).stdout;
    },
    async cancelAll() {
      await run('cancel', ['-h', server, '-a']);
    },
    async job(id) {
      // ipptool ships with cups-client; it reads exactly the attributes lpstat shows.
      const test = path.join(dir, 'get-job.test');
      if (!fs.existsSync(test)) {
        fs.writeFileSync(
          test,
          '{ OPERATION Get-Job-Attributes GROUP operation-attributes-tag ATTR charset attributes-charset utf-8 ATTR naturalLanguage attributes-natural-language en ATTR uri job-uri $uri ATTR name requesting-user-name root ATTR keyword requested-attributes job-state,job-printer-state-message,job-state-reasons,job-uuid }\n',
        );
      }
      const { stdout } = await run('ipptool', ['-tv', `ipp://${server}/jobs/${id}`, test]);
      const attr = (name: string): string => new RegExp(`^\\s*${name} \\([^)]*\\) = (.*)$`, 'm').exec(stdout)?.[1]?.trim() ?? '';
      return { state: attr('job-state'), message: attr('job-printer-state-message'), reasons: attr('job-state-reasons'), uuid: attr('job-uuid') };
    },
    async waitForJob(id, states, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let last: JobInfo | undefined;
      while (Date.now() < deadline) {
        last = await cups.job(id);
        if (states.includes(last.state)) return last;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`job ${id} is ${JSON.stringify(last)}, not ${states.join('|')}; its log:\n${cups.jobLog(id)}`);
    },
    errorLog,
    jobLog(id) {
      return errorLog()
        .split('\n')
        .filter((l) => l.includes(`[Job ${id}]`) && !/\] (envp|argv)\[/.test(l))
        .slice(-80)
        .join('\n');
    },
    addBackend(name, script, mode = 0o755) {
      const file = path.join(backendDir, name);
      fs.writeFileSync(file, script, { mode });
      fs.chmodSync(file, mode);
      return file;
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      if (!process.env.QUOTIENT_KEEP_CUPS) fs.rmSync(dir, { recursive: true, force: true });
    },
  };

  // Ready when the scheduler answers.
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      await run('lpstat', ['-h', server, '-r']);
      break;
    } catch {
      if (child.exitCode !== null || Date.now() > deadline) {
        await cups.stop();
        throw new Error(`cupsd did not start: ${stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return cups;
}

/** A printer's raw port (AppSocket/JetDirect): records each connection's bytes; can refuse or fail. */
export interface TestSink {
  readonly port: number;
  /** The documents received in full (one per connection that ended normally). */
  readonly received: Buffer[];
  /** accept: record; reset: accept and reset each connection at once (a failing printer). */
  mode: 'accept' | 'reset';
  /** Resolves when `count` documents have been received. */
  waitForDocuments(count: number, timeoutMs?: number): Promise<Buffer[]>;
  close(): Promise<void>;
}

export async function startTestSink(): Promise<TestSink> {
  const received: Buffer[] = [];
  const waiters = new Set<() => void>();
  const sockets = new Set<net.Socket>();
  const sink: TestSink = {
    port: 0,
    received,
    mode: 'accept',
    waitForDocuments(count, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (received.length >= count) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(received);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`the sink received ${received.length} documents, not ${count}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  const server = net.createServer((socket) => {
    if (sink.mode === 'reset') {
      socket.resetAndDestroy();
      return;
    }
    sockets.add(socket);
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => undefined);
    socket.on('end', () => {
      socket.end();
      received.push(Buffer.concat(chunks));
      for (const w of waiters) w();
    });
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  (sink as { port: number }).port = (server.address() as net.AddressInfo).port;
  return sink;
}

/** Test documents made with Ghostscript: `pages` pages of A4 (PDF or DSC PostScript). */
export async function makeDocument(dir: string, kind: 'pdf' | 'ps', pages: number, opts: { colour?: boolean } = {}): Promise<string> {
  const source = path.join(dir, `doc-${kind}-${pages}-${opts.colour ? 'c' : 'g'}.ps`);
  const body = Array.from(
    { length: pages },
    (_, i) => `${opts.colour ? '1 0 0 setrgbcolor' : '0 setgray'} /Helvetica findfont 24 scalefont setfont 72 720 moveto (Page ${i + 1}) show showpage`,
  ).join('\n');
  fs.writeFileSync(source, `%!PS\n${body}\n`);
  const out = path.join(dir, `doc-${pages}-${opts.colour ? 'c' : 'g'}.${kind}`);
  const device = kind === 'pdf' ? 'pdfwrite' : 'ps2write';
  await run('gs', ['-q', '-dNOPAUSE', '-dBATCH', '-dSAFER', `-sDEVICE=${device}`, '-sPAPERSIZE=a4', `-sOutputFile=${out}`, source]);
  return out;
}

/** A document an IPP printer accepted and printed. */
export interface IppJob {
  /** The printer's own job id. */
  id: number;
  /** The spooled document (kept, `-k`). */
  file: string;
  /** The document-format the client sent. */
  format: string;
}

/** CUPS's reference IPP Everywhere printer on a loopback port: what `quotient:ipp://…` prints to. */
export interface IppPrinter {
  readonly port: number;
  /** `ipp://127.0.0.1:<port>/ipp/print` */
  readonly uri: string;
  readonly spoolDir: string;
  /** The jobs it finished printing, in order. */
  readonly jobs: IppJob[];
  /** Resolves when `count` jobs have finished printing (or rejects with its log). */
  waitForJobs(count: number, timeoutMs?: number): Promise<IppJob[]>;
  log(): string;
  stop(): Promise<void>;
}

/** Why startIppPrinter cannot run here (ippeveprinter needs a D-Bus bus for its DNS-SD client; pdfinfo counts), or undefined. */
export function ippPrinterUnavailable(): string | undefined {
  const missing = ['/usr/sbin/ippeveprinter', '/usr/bin/dbus-daemon', '/usr/bin/pdfinfo', path.join(SYSTEM_SERVERBIN, 'backend/ipp')].filter(
    (p) => !fs.existsSync(p),
  );
  return missing.length > 0 ? `missing ${missing.join(', ')}` : undefined;
}

/**
 * Starts ippeveprinter accepting `formats`. With `countImpressions` its print command reports
 * `job-impressions-completed` as a PDF's pages times its copies (pdfinfo), like a printer with a
 * page counter, which the ipp backend passes on as `PAGE: total n`; without it every job ends with
 * 0 impressions, and the ipp backend reports `PAGE: total 0`. It will not start without DNS-SD: Avahi's client
 * needs a reachable system bus even with advertising off (`-r off`), but not avahi-daemon itself
 * (AVAHI_CLIENT_NO_FAIL), so a private dbus-daemon stands in for the system bus. It binds the
 * addresses of its host name on both families ("Unable to create IPv6 listener" for
 * `-n 127.0.0.1`), so it is named `localhost`: 127.0.0.1 and ::1 only. A print command (`-c`)
 * makes a job complete as soon as it is spooled (without one it "prints" for 5–15 s).
 */
export async function startIppPrinter(opts: { formats?: string[]; countImpressions?: boolean } = {}): Promise<IppPrinter> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qipp-'));
  const spoolDir = path.join(dir, 'spool');
  fs.mkdirSync(spoolDir);
  const port = await freePort();
  const children: ChildProcess[] = [];
  let log = '';
  const jobs: IppJob[] = [];
  const waiters = new Set<() => void>();
  const stop = async (): Promise<void> => {
    for (const child of children.reverse()) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  /** Resolves with the first match of `pattern` in what `child` writes, or rejects when it exits first. */
  const awaitOutput = (child: ChildProcess, pattern: RegExp, what: string): Promise<void> =>
    new Promise((resolve, reject) => {
      let seen = '';
      const timer = setTimeout(() => reject(new Error(`${what} did not start in 15 s: ${seen}`)), 15_000);
      const onData = (d: Buffer): void => {
        seen += d.toString();
        if (pattern.test(seen)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${what} exited (${code}): ${seen}`));
      });
    });
  // ippeveprinter sets IPP_<ATTRIBUTE> for the command and reads `ATTR:` lines from its stderr.
  const command = path.join(dir, 'print-command');
  const count = `pages=$(pdfinfo "$1" 2>/dev/null | sed -n 's/^Pages: *//p')\necho "ATTR: job-impressions-completed=$(( \${pages:-0} * \${IPP_COPIES:-1} ))" >&2\n`;
  fs.writeFileSync(command, `#!/bin/sh\n${opts.countImpressions ? count : ''}exit 0\n`, { mode: 0o755 });
  try {
    const bus = spawn('/usr/bin/dbus-daemon', ['--session', '--nofork', '--print-address', `--address=unix:path=${path.join(dir, 'bus')}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(bus);
    await awaitOutput(bus, /^unix:path=/m, 'dbus-daemon');
    const formats = opts.formats ?? ['application/pdf', 'application/postscript', 'text/plain', 'application/octet-stream'];
    const printer = spawn(
      '/usr/sbin/ippeveprinter',
      ['-n', 'localhost', '-p', String(port), '-d', spoolDir, '-k', '-r', 'off', '-c', command, '-f', formats.join(','), '-v', 'Quotient test printer'],
      {
        env: { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${path.join(dir, 'bus')}` },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    children.push(printer);
    const files = new Map<string, { file: string; format: string }>();
    let partial = '';
    printer.stderr?.on('data', (d: Buffer) => {
      log += d.toString();
      partial += d.toString();
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const created = /^Created job file "(.*\/(\d+)-[^/]*)", format "([^"]*)"/.exec(line);
        if (created) files.set(created[2] ?? '', { file: created[1] ?? '', format: created[3] ?? '' });
        const done = /^\[Job (\d+)\] Command "[^"]*" completed successfully/.exec(line);
        const spooled = done ? files.get(done[1] ?? '') : undefined;
        if (done && spooled) {
          jobs.push({ id: Number(done[1]), ...spooled });
          for (const w of waiters) w();
        }
      }
    });
    // It prints its URIs once its listeners exist; connections wait in their backlog until it serves.
    await awaitOutput(printer, /^printer-uri-supported=/m, 'ippeveprinter');
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    port,
    uri: `ipp://127.0.0.1:${port}/ipp/print`,
    spoolDir,
    jobs,
    waitForJobs(count, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (jobs.length < count) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(jobs);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`ippeveprinter printed ${jobs.length} jobs, not ${count}; its log:\n${log}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    log: () => log,
    stop,
  };
}

/** A queue of the fixture's CUPS, printing through the Quotient backend. */
export interface CupsQueue {
  name: string;
  /** postscript: CUPS's sample PostScript driver, so CUPS's filters run and the backend reads their output; raw by default. */
  driver?: 'raw' | 'postscript';
  /** Its device URI, asked before each test; by default the sink's, `quotient:socket://127.0.0.1:<sink port>`. */
  device?: (fixture: CupsFixture) => string | Promise<string>;
}

export interface CupsFixtureOptions {
  /** The queues, on CUPS and on the secondary; a name alone is a raw queue printing to the sink. */
  queues: (string | CupsQueue)[];
  /** Programs the tests need beyond CUPS (absolute paths): without one the describe is skipped, or fails under CI. */
  requires?: string[];
  /** false leaves the quotient shim out of CUPS's backends, for a test that installs it itself. */
  installBackend?: boolean;
  /** Starts CUPS's IPP printer (ippeveprinter) too, with these options. */
  ippPrinter?: { countImpressions?: boolean };
  /** Runs before each test's secondary starts: the printers, failure modes and rules it should find on the primary. */
  beforeSecondary?: (primary: RunningPrimary) => Promise<unknown>;
}

/** What useCupsFixture runs; read it inside hooks and tests (each getter throws before the parts start). */
export interface CupsFixture {
  readonly cups: PrivateCups;
  readonly sink: TestSink;
  readonly ippPrinter: IppPrinter;
  readonly shared: SharedPrimary;
  /** The shared primary running now (a new one after shared.start()). */
  readonly primary: RunningPrimary;
  /** This test's secondary (print-1), serving every queue on `socketPath`. */
  readonly secondary: RunningSecondary;
  /** The secondary's socket, which CUPS passes to the backend as QUOTIENT_SOCKET. */
  readonly socketPath: string;
  /** A directory for the tests' documents, readable by lp. */
  readonly docs: string;
  /** Shuts the secondary down and starts it again on the same data directory (an upgrade, a reboot). */
  restartSecondary(): Promise<void>;
}

/**
 * Registers a describe's hooks for end-to-end tests through real CUPS: once, a private cupsd
 * whose backends find the secondary's socket, a test sink (and an IPP printer when asked), and
 * a shared primary; before each test, a fresh secondary with the queues and the queues on CUPS;
 * after each, every unfinished job cancelled and the secondary shut down. Skips the describe
 * with the reason where CUPS or a required program is missing (and fails instead under CI,
 * where .ci/run installs them).
 */
export function useCupsFixture(t: TestDatabase, opts: CupsFixtureOptions): CupsFixture {
  const queues: CupsQueue[] = opts.queues.map((q) => (typeof q === 'string' ? { name: q } : q));
  const parts: Partial<{ cups: PrivateCups; sink: TestSink; ippPrinter: IppPrinter; secondary: RunningSecondary; secondaryDir: string; docs: string }> = {};
  const need = <K extends keyof typeof parts>(key: K): NonNullable<(typeof parts)[K]> => {
    const part = parts[key];
    if (part === undefined) throw new Error(`the CUPS fixture has no ${key} (use it inside hooks and tests)`);
    return part as NonNullable<(typeof parts)[K]>;
  };
  const socketPath = (): string => path.join(need('secondaryDir'), 'quotient.sock');
  const startSecondary = async (primary: RunningPrimary, dataDir: string): Promise<void> => {
    parts.secondary = await startTestSecondary(primary.grpcPort, dataDir, { queues: queues.map((q) => q.name), flags: { socketPath: socketPath() } });
    await parts.secondary.whenSynced();
  };
  /** A directory backends running as lp can enter. */
  const openDir = (prefix: string): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    fs.chmodSync(dir, 0o755);
    return dir;
  };

  before(async function () {
    const missing = (opts.requires ?? []).filter((p) => !fs.existsSync(p));
    const why =
      cupsUnavailable() ?? (opts.ippPrinter ? ippPrinterUnavailable() : undefined) ?? (missing.length > 0 ? `missing ${missing.join(', ')}` : undefined);
    if (why !== undefined) {
      if (process.env.CI === 'true') throw new Error(`CUPS is required under CI: ${why}`);
      console.log(`      (CUPS tests skipped: ${why})`);
      this.skip();
    }
    this.timeout(60_000);
    parts.secondaryDir = openDir('qsec-');
    parts.docs = openDir('qdocs-');
    parts.cups = await startPrivateCups({ env: { QUOTIENT_SOCKET: socketPath() }, installBackend: opts.installBackend !== false });
    const [sink, ippPrinter] = await Promise.all([startTestSink(), opts.ippPrinter ? startIppPrinter(opts.ippPrinter) : undefined]);
    parts.sink = sink;
    if (ippPrinter) parts.ippPrinter = ippPrinter;
  });

  const shared = sharedPrimary(t);

  after(async () => {
    await parts.secondary?.shutdown();
    await parts.sink?.close();
    await parts.ippPrinter?.stop();
    await parts.cups?.stop();
    for (const dir of [parts.secondaryDir, parts.docs]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(async function () {
    this.timeout(60_000);
    await opts.beforeSecondary?.(shared.primary);
    await startSecondary(shared.primary, fs.mkdtempSync(path.join(need('secondaryDir'), 'd')));
    const sink = need('sink');
    sink.received.length = 0;
    sink.mode = 'accept';
    for (const q of queues) {
      const device = q.device ? await q.device(fixture) : `quotient:socket://127.0.0.1:${sink.port}`;
      const model = q.driver === 'postscript' ? 'drv:///sample.drv/generic.ppd' : 'raw';
      await need('cups').lpadmin(['-p', q.name, '-E', '-v', device, '-m', model, '-o', 'printer-error-policy=abort-job']);
    }
  });

  afterEach(async () => {
    await parts.cups?.cancelAll();
    await parts.secondary?.shutdown();
  });

  const fixture: CupsFixture = {
    get cups() {
      return need('cups');
    },
    get sink() {
      return need('sink');
    },
    get ippPrinter() {
      return need('ippPrinter');
    },
    shared,
    get primary() {
      return shared.primary;
    },
    get secondary() {
      return need('secondary');
    },
    get socketPath() {
      return socketPath();
    },
    get docs() {
      return need('docs');
    },
    async restartSecondary() {
      const { dataDir } = need('secondary').config;
      await need('secondary').shutdown();
      await startSecondary(shared.primary, dataDir);
    },
  };
  return fixture;
}
