/**
 * The charge bench's load generator runs in a child process, as a secondary would, so that the
 * client's CPU is not taken from the primary's event loop. This module is the contract between
 * the two (one typed request, one answer, over Node's IPC channel) and the parent's handle on the
 * child (`LoadGenerator`). The child is bench/charge-load.ts.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/** How the child names a bench job: `urn:uuid:bench-<prefix>-<i>`, user `<userPrefix><i mod users>`. */
export interface JobSet {
  /** Distinguishes the lines, so job ids never repeat across them. */
  prefix: string;
  first: number;
  count: number;
  /**
   * Whom the jobs bill (`-o job-account-id=…`): their users' personal accounts (absent), the one
   * hot shared account every user may charge, or one of many shared accounts, each charged by
   * the one user with access to it; or, for comparison, the personal accounts of those many users.
   */
  billing?: 'hot' | 'many' | 'many-personal';
}

/** The shared accounts of the charge bench's shared lines: the hot one's code, and how many of the many (and their users). */
export const HOT_CODE = 'HOT';
export const MANY_ACCOUNTS = 1_000;
/** The many accounts' codes and the users who may charge them: account A<k> is user m<k>'s. */
export const manyCode = (k: number): string => `A${k}`;
export const MANY_USER_PREFIX = 'm';

export interface LatencySummary {
  /** Jobs sent; each AuthorizeJob followed by its CommitJob once answered. */
  jobs: number;
  /** Jobs answered per second, from the first send to the last answer: the schedule's rate, unless the primary fell behind. */
  answeredPerSecond: number;
  /** AuthorizeJob, from the moment the schedule said to send it to its answer, in ms. */
  authorize: Percentiles;
  /** The same from the moment the client actually sent it: the difference is the load generator running late. */
  authorizeFromSend: Percentiles;
  /** CommitJob, from its send to its answer, in ms. */
  commit: Percentiles;
}

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles of `values`. */
export function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted[sorted.length - 1] ?? Number.NaN };
}

export interface ReplayRun {
  /** From starting the sender to an empty outbox: every event charged on the primary and acknowledged. */
  ms: number;
  delivered: number;
  deadLettered: number;
  calls: number;
  failedCalls: number;
  /** Events left in the outbox afterwards (0 when all were acknowledged). */
  left: number;
}

export interface LoadCommands {
  /** Registers the secondary (Cluster.Register, with the bench queue) and opens the clients. */
  connect: { req: { port: number; secret: string; name: string; queue: string; users: number; userPrefix: string }; res: { registered: string } };
  /** One SubmitJobEvents with `count` authorisations, then one with their `count` commits; `floor`: to the empty server. */
  batch: { req: JobSet & { floor?: boolean }; res: null };
  /** One StreamJobEvents call: every authorisation written at once, each commit written as its authorisation comes back; `floor`: to the empty server. */
  stream: { req: JobSet & { floor?: boolean }; res: null };
  /** Opens the same client against the bench's empty gRPC server (bench/grpc-floor.ts) on `port`. */
  floorConnect: { req: { port: number }; res: null };
  /** AuthorizeJob then CommitJob per job, `inFlight` jobs at a time; `floor`: to the empty server. */
  calls: { req: JobSet & { inFlight: number; floor?: boolean }; res: null };
  /** Open loop: `rate` AuthorizeJob calls per second for `seconds`, each followed by its CommitJob; `floor`: to the empty server. */
  paced: { req: { prefix: string; rate: number; seconds: number; floor?: boolean }; res: LatencySummary };
  /**
   * Fills the outbox in `dir` with `jobs` offline records (what a charge-later outage leaves) and
   * drains it with a fresh real OutboxSender, as a secondary does when it starts after an outage.
   * Sent twice, the second call replays exactly what the first delivered.
   */
  replay: { req: { prefix: string; jobs: number; dir: string }; res: ReplayRun };
}

export type LoadCommand = keyof LoadCommands;

export interface LoadMessage<K extends LoadCommand = LoadCommand> {
  id: number;
  cmd: K;
  args: LoadCommands[K]['req'];
}

/** `cpuUs`: the child's CPU time (user + system) while it handled the command. */
export type LoadAnswer = { id: number; ok: true; res: unknown; cpuUs: number } | { id: number; ok: false; error: string };

/** The bench jobs' shape, shared by the gRPC load and the raw drivers so both price the same job. */
export const BENCH_JOB = { pages: 2, copies: 1, documentName: 'bench.pdf', paperSize: 'A4' } as const;
/** What the default rate card (10 per grey simplex page) charges for BENCH_JOB. */
export const BENCH_JOB_COST = 20;

export const jobId = (prefix: string, i: number): string => `urn:uuid:bench-${prefix}-${i}`;

/** The parent's handle on the child process. */
export class LoadGenerator {
  private readonly child: ChildProcess;
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (v: { res: unknown; cpuUs: number }) => void; reject: (e: Error) => void }>();
  private exited: Error | undefined;

  constructor() {
    // The project is CommonJS: tsx's require hook runs the TypeScript child without a build.
    // QUOTIENT_BENCH_CHILD_CPU_PROF=<dir>: the child writes a V8 CPU profile there when it ends
    // (the parent, and so the primary, is profiled with `node --cpu-prof --require tsx/cjs bench/run.ts`).
    const profDir = process.env.QUOTIENT_BENCH_CHILD_CPU_PROF;
    const execArgv = ['--require', require.resolve('tsx/cjs'), ...(profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [])];
    this.child = fork(path.join(__dirname, 'charge-load.ts'), [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (msg: LoadAnswer) => {
      const w = this.waiting.get(msg.id);
      if (!w) return;
      this.waiting.delete(msg.id);
      if (msg.ok) w.resolve({ res: msg.res, cpuUs: msg.cpuUs });
      else w.reject(new Error(`load generator: ${msg.error}`));
    });
    this.child.on('exit', (code, signal) => {
      this.exited = new Error(`load generator exited (${signal ?? `code ${String(code)}`})`);
      for (const w of this.waiting.values()) w.reject(this.exited);
      this.waiting.clear();
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  request<K extends LoadCommand>(cmd: K, args: LoadCommands[K]['req']): Promise<LoadCommands[K]['res']> {
    return this.call(cmd, args).then((a) => a.res);
  }

  /** The answer, with the CPU time the child spent on it. */
  call<K extends LoadCommand>(cmd: K, args: LoadCommands[K]['req']): Promise<{ res: LoadCommands[K]['res']; cpuUs: number }> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.next++;
    const message: LoadMessage<K> = { id, cmd, args };
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: { res: unknown; cpuUs: number }) => void, reject });
      this.child.send(message);
    });
  }

  /** Ends the child (it closes its clients when its IPC channel closes). */
  async close(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }
}
