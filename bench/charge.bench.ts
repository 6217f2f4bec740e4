/**
 * The print charge path bench for one dialect (issue 3; targets in bench/README.md): a real primary started in
 * this process with startPrimary(), driven over gRPC by a load generator in a child process that
 * plays a print secondary (charge-load.ts), against the raw driver doing the same work in the
 * same run (raw-charge.ts). Measures authorise+commit jobs per second batched, streamed and one
 * per call, with a breakdown of where the time goes; the batched line again with the jobs billed
 * to shared accounts (one hot account, and 1,000 accounts one per user) beside it; AuthorizeJob latency under an open-loop
 * 1,000 jobs/s; and the catch-up replay of 25,000 offline jobs through the secondary's real
 * outbox sender, delivered twice to show the second changes nothing. Prints nothing; run.ts
 * formats the figures.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createLogger } from '../common/logger';
import { importAccounts } from '../primary/accounts/account-import';
import { startPrimary, type RunningPrimary } from '../primary/boot';
import { loadPrimaryConfig } from '../primary/config';
import type { Dialect } from '../primary/db/connection';
import type { VerifyResult } from '../primary/ledger/ledger-service';
import { parseJobDescription, type JobEvent, type JobOutcome } from '../primary/printing/job-events';
import {
  BENCH_JOB,
  BENCH_JOB_COST,
  HOT_CODE,
  jobId,
  LoadGenerator,
  MANY_ACCOUNTS,
  MANY_USER_PREFIX,
  manyCode,
  percentiles,
  type LatencySummary,
  type Percentiles,
  type ReplayRun,
} from './charge-ipc';
import { startFloorServer, type FloorServer } from './grpc-floor';
import { fmt as fmtCount, opsPerSecond, runOps, Side } from './harness';
import { RawMysqlCharge, RawSqliteCharge, type RawCharge } from './raw-charge';
import type { BenchDatabase } from './setup';

export interface ChargeOptions {
  /** Jobs per side of each throughput line, per dialect (MariaDB is about ten times slower here). */
  jobs: Record<Dialect, number>;
  /** Events per SubmitJobEvents call (and jobs per raw transaction on the batched line). */
  batch: number;
  /** One-per-call jobs in flight (and jobs per raw transaction on that line). */
  inFlight: number;
  /** Open-loop AuthorizeJob rate for the latency line, and how long it runs. */
  rate: number;
  latencySeconds: number;
  /** Offline jobs in the catch-up replay. */
  replayJobs: number;
}

/** What one measured run of jobs cost: CPU per job on each side, and durable commits. */
export interface Costs {
  /** CPU of this process (the primary) per job, µs. */
  serverUs: number;
  /** CPU of the load generator per job, µs. */
  clientUs: number;
  /** Events (an authorisation, a commit, an offline record) per durable commit of the primary. */
  eventsPerCommit: number;
}

export interface ChargeLine {
  operation: string;
  /** Events per call or in flight, for the table. */
  shape: string;
  quotientJobsPerSecond: number;
  rawJobsPerSecond: number;
  /** How the raw driver ran it. */
  rawShape: string;
  /** The target's floor for this line (stated for SQLite). */
  target: number;
  costs: Costs;
}

/** One step of a breakdown: each adds one thing to the step above, except an aside, which is measured against the first step and is not on the path. */
export interface Step {
  label: string;
  jobsPerSecond: number;
  aside?: boolean;
}

export interface Snapshot {
  ledgerRows: number;
  printJobs: number;
  /** Ledger rows of the replayed jobs (their keys are print:<job id>). */
  replayRows: number;
  balances: number;
}

export interface ReplayResult extends ReplayRun {
  costs: Costs;
}

/** Every shape's load (batched, streamed, one per call, paced) against the empty floor server (bench/grpc-floor.ts). */
export interface FloorResult {
  batched: { jobsPerSecond: number; costs: Costs };
  streamed: { jobsPerSecond: number; costs: Costs };
  calls: { jobsPerSecond: number; costs: Costs };
  latency: LatencySummary & { costs: Costs };
}

/** A batched line billed to shared accounts, beside the personal-account batched line of the same run. */
export interface SharedLine {
  operation: string;
  jobsPerSecond: number;
  personalJobsPerSecond: number;
  /** The same jobs charged to the personal accounts of the same users (the many accounts' users), where that differs from the personal line. */
  sameUsersJobsPerSecond: number | undefined;
  costs: Costs;
}

/** The shared lines should reach this share of the personal line (issue 16). */
export const SHARED_TARGET_RATIO = 0.8;

export interface ChargeReport {
  dialect: Dialect;
  floor: FloorResult;
  database: string;
  server: string[];
  lines: ChargeLine[];
  shared: SharedLine[];
  breakdown: { title: string; steps: Step[] }[];
  /** walSyncs: the WAL fdatasync calls the primary waited for during the line (SQLite), ms. */
  latency: LatencySummary & { costs: Costs; walSyncs: (Percentiles & { count: number }) | undefined };
  replay: { jobs: number; first: ReplayResult; again: ReplayResult; before: Snapshot; afterFirst: Snapshot; afterAgain: Snapshot };
  verify: VerifyResult;
  expectedLedgerRows: number;
  expectedPrintJobs: number;
}

export const SECONDARY = 'bench-print-1';
const QUEUE = 'bench-queue';
const SECRET = 'bench-cluster-secret-0123456789';
/** Users per side; a batch of 1,000 jobs touches each about four times. */
export const USERS = 256;
/** Restricted users with plenty of credit: the credit check runs on every authorisation. */
const INITIAL_CREDIT = 100_000_000;

/** Runs every side `units` times, one unit per turn, the order rotating; one unrecorded warm-up unit each first. */
async function alternate(sides: Side[], units: number): Promise<void> {
  for (const s of sides) await s.run(1, 1, false);
  for (let r = 0; r < units; r++) {
    for (let k = 0; k < sides.length; k++) await sides[(r + k) % sides.length]?.run(1, 1);
  }
}

/**
 * Adds up what the runs of one side cost (warm-up included): this process's CPU, the load
 * generator's CPU when the work went through it, and the primary's durable commits, counted
 * from the 'accountsChanged' event the SQL runner emits once per committed money transaction.
 */
class Tally {
  private serverUs = 0;
  private clientUs = 0;
  private jobs = 0;
  private commits = 0;

  constructor(private readonly running: RunningPrimary) {}

  async run<T>(jobs: number, work: () => Promise<{ res: T; cpuUs: number }>): Promise<T> {
    let commits = 0;
    const count = (): void => {
      commits++;
    };
    this.running.services.db.events.on('accountsChanged', count);
    const start = process.cpuUsage();
    try {
      const { res, cpuUs } = await work();
      const used = process.cpuUsage(start);
      this.serverUs += used.user + used.system;
      this.clientUs += cpuUs;
      this.jobs += jobs;
      this.commits += commits;
      return res;
    } finally {
      this.running.services.db.events.off('accountsChanged', count);
    }
  }

  /** `eventsPerJob`: 2 for authorise+commit, 1 for an offline record. */
  costs(eventsPerJob: number): Costs {
    const jobs = Math.max(1, this.jobs);
    return {
      serverUs: this.serverUs / jobs,
      clientUs: this.clientUs / jobs,
      eventsPerCommit: this.commits > 0 ? (this.jobs * eventsPerJob) / this.commits : 0,
    };
  }
}

async function createUsers(running: RunningPrimary, prefix: string): Promise<void> {
  for (let i = 0; i < USERS; i++) {
    await running.services.users.createUser({ username: `${prefix}${i}`, restricted: true, initialCredit: INITIAL_CREDIT }, 'bench');
  }
}

/**
 * The shared accounts of the shared lines, made as an administrator would: HOT, which every user
 * may charge, and A0…A999, each charged by its own user m0…m999 (restricted with credit, as the
 * personal line's users, for the line that charges their personal accounts), all imported from one CSV file
 * (primary/accounts/account-import.ts). Restricted with a credit limit, so the credit check runs
 * on every authorisation as it does on the personal line.
 */
async function createSharedAccounts(running: RunningPrimary): Promise<void> {
  for (let k = 0; k < MANY_ACCOUNTS; k++) {
    await running.services.users.createUser({ username: `${MANY_USER_PREFIX}${k}`, restricted: true, initialCredit: INITIAL_CREDIT }, 'bench');
  }
  const limit = '1000000.00';
  const rows = [
    'name,code,restricted,credit_limit,users,everyone',
    `Hot,${HOT_CODE},yes,${limit},,yes`,
    ...Array.from({ length: MANY_ACCOUNTS }, (_, k) => `Account ${k},${manyCode(k)},yes,${limit},${MANY_USER_PREFIX}${k},no`),
  ];
  const result = await importAccounts(running.services, Readable.from([rows.join('\n')]), { actor: 'bench', dryRun: false });
  if (!result.written) throw new Error(`the bench's shared accounts were not imported: ${JSON.stringify(result.problems.slice(0, 5))}`);
}

async function snapshot(running: RunningPrimary, replayPrefix: string): Promise<Snapshot> {
  const k = running.services.db.knex;
  const count = async (q: ReturnType<typeof k>): Promise<number> => Number(((await q.count({ n: '*' })) as { n: number | string }[])[0]?.n ?? 0);
  const sum = (await k('accounts').sum({ s: 'balance' })) as { s: number | string | null }[];
  return {
    ledgerRows: await count(k('ledger')),
    printJobs: await count(k('print_jobs')),
    replayRows: await count(k('ledger').where('idempotency_key', 'like', `print:urn:uuid:bench-${replayPrefix}-%`)),
    balances: Number(sum[0]?.s ?? 0),
  };
}

/** The job events the gRPC handlers would hand the service, for the in-process steps. */
function authorizeEvent(prefix: string, i: number): JobEvent {
  const job = parseJobDescription({
    jobId: jobId(prefix, i),
    queue: QUEUE,
    username: `q${i % USERS}`,
    documentName: BENCH_JOB.documentName,
    pages: BENCH_JOB.pages,
    colourPages: 0,
    copies: BENCH_JOB.copies,
    duplex: false,
    paperSize: BENCH_JOB.paperSize,
    finishings: [],
    accountCode: '',
    clientHost: '',
    submittedAt: 0,
  });
  return { kind: 'authorize', secondary: SECONDARY, job };
}

function commitEvent(prefix: string, i: number): JobEvent {
  return { kind: 'commit', secondary: SECONDARY, jobId: jobId(prefix, i) };
}

function checkOutcome(o: JobOutcome | undefined): void {
  const ok = (o?.kind === 'authorized' && o.allowed) || (o?.kind === 'committed' && o.cost === BENCH_JOB_COST);
  if (!ok) throw new Error(`unexpected outcome ${JSON.stringify(o)}`);
}

export async function benchCharge(target: BenchDatabase, databaseUrl: string, opts: ChargeOptions): Promise<ChargeReport> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'quotient-bench-primary-'));
  const outboxDir = fs.mkdtempSync(path.join(os.tmpdir(), 'quotient-bench-outbox-'));
  const config = loadPrimaryConfig({
    env: {},
    flags: {
      dataDir,
      databaseUrl,
      httpHost: '127.0.0.1',
      httpPort: 0,
      grpcHost: '127.0.0.1',
      grpcPort: 0,
      clusterSecret: SECRET,
      adminPassword: 'bench-admin-password',
      shutdownGraceSeconds: 2,
    },
  });
  const running = await startPrimary(config, createLogger('bench-primary', process.env.QUOTIENT_LOG_LEVEL ?? 'warn'), () => undefined);
  let load: LoadGenerator | undefined;
  let raw: RawCharge | undefined;
  let floorServer: FloorServer | undefined;
  try {
    await createUsers(running, 'q');
    await createUsers(running, 'r');
    await createSharedAccounts(running);
    load = new LoadGenerator();
    const lg = load;
    await lg.request('connect', { port: running.grpcPort, secret: SECRET, name: SECONDARY, queue: QUEUE, users: USERS, userPrefix: 'q' });
    floorServer = await startFloorServer();
    await lg.request('floorConnect', { port: floorServer.port });
    const printer = await running.services.printers.resolve(SECONDARY, QUEUE);
    const setup = { printerId: printer.id, rateCardId: printer.rateCardId, secondary: SECONDARY, userPrefix: 'r', users: USERS };
    if (target.sqliteFile !== undefined) raw = new RawSqliteCharge(target.sqliteFile, setup);
    else if (target.mysql) raw = await RawMysqlCharge.open(target.mysql, setup);
    else throw new Error('bench database has neither a SQLite file nor MySQL settings');
    const r = raw;
    const printing = running.services.printing;
    const server = [
      await r.serverInfo(),
      `primary in this process (pid ${process.pid}); load generator in a child process (pid ${String(lg.pid)}); ${USERS} restricted users per side`,
    ];
    const base = await snapshot(running, 'qr');
    const jobs = opts.jobs[target.dialect];
    const tally = (): Tally => new Tally(running);

    // Batched and streamed, against raw transactions of the same size, with the breakdown's
    // steps between them; all five alternate.
    const B = opts.batch;
    const batchUnits = Math.max(1, Math.ceil(jobs / B));
    const batchCost = tally();
    const streamCost = tally();
    const qBatch = new Side('SubmitJobEvents', (i) => batchCost.run(B, () => lg.call('batch', { prefix: 'qb', first: i * B, count: B })));
    const qStream = new Side('StreamJobEvents', (i) => streamCost.run(B, () => lg.call('stream', { prefix: 'qs', first: i * B, count: B })));
    const floorBatchCost = tally();
    const floorStreamCost = tally();
    const qFloorBatch = new Side('floor batch', (i) => floorBatchCost.run(B, () => lg.call('batch', { prefix: 'qfb', first: i * B, count: B, floor: true })));
    const qFloorStream = new Side('floor stream', (i) =>
      floorStreamCost.run(B, () => lg.call('stream', { prefix: 'qfs', first: i * B, count: B, floor: true })),
    );
    const hotCost = tally();
    const manyCost = tally();
    const qHot = new Side('SubmitJobEvents, one hot shared account', (i) =>
      hotCost.run(B, () => lg.call('batch', { prefix: 'qh', first: i * B, count: B, billing: 'hot' })),
    );
    const qMany = new Side(`SubmitJobEvents, ${MANY_ACCOUNTS} shared accounts`, (i) =>
      manyCost.run(B, () => lg.call('batch', { prefix: 'qm', first: i * B, count: B, billing: 'many' })),
    );
    const manyPersonalCost = tally();
    const qManyPersonal = new Side(`SubmitJobEvents, ${MANY_ACCOUNTS} users' personal accounts`, (i) =>
      manyPersonalCost.run(B, () => lg.call('batch', { prefix: 'qmp', first: i * B, count: B, billing: 'many-personal' })),
    );
    const rBatch = new Side('raw', (i) => r.run('rb', i * B, B, B));
    const rBatchSp = new Side('raw + savepoints', (i) => r.run('rbs', i * B, B, B, true));
    const iBatch = new Side('processBatch in process', async (i) => {
      const ids = Array.from({ length: B }, (_, k) => i * B + k);
      (await printing.processBatch(ids.map((n) => authorizeEvent('qib', n)))).forEach(checkOutcome);
      (await printing.processBatch(ids.map((n) => commitEvent('qib', n)))).forEach(checkOutcome);
    });
    await alternate([qBatch, qHot, qMany, qManyPersonal, qStream, qFloorBatch, qFloorStream, rBatch, rBatchSp, iBatch], batchUnits);

    // One job per call with K in flight, against raw transactions of K jobs (the best a group
    // commit of K concurrent calls could do). A unit is 10 × K jobs.
    const K = opts.inFlight;
    const perUnit = K * 10;
    const callUnits = Math.max(1, Math.ceil(jobs / perUnit));
    const callCost = tally();
    const qCalls = new Side('AuthorizeJob+CommitJob', (i) =>
      callCost.run(perUnit, () => lg.call('calls', { prefix: 'qc', first: i * perUnit, count: perUnit, inFlight: K })),
    );
    const floorCost = tally();
    const qFloor = new Side('floor', (i) =>
      floorCost.run(perUnit, () => lg.call('calls', { prefix: 'qf', first: i * perUnit, count: perUnit, inFlight: K, floor: true })),
    );
    const rCalls = new Side('raw', (i) => r.run('rc', i * perUnit, perUnit, K));
    const rCallsSp = new Side('raw + savepoints', (i) => r.run('rcs', i * perUnit, perUnit, K, true));
    const iCalls = new Side('submit() in process', (i) =>
      runOps(
        async (n) => {
          checkOutcome(await printing.submit(authorizeEvent('qic', n)));
          checkOutcome(await printing.submit(commitEvent('qic', n)));
        },
        i * perUnit,
        perUnit,
        K,
      ),
    );
    await alternate([qCalls, qFloor, rCalls, rCallsSp, iCalls], callUnits);

    const perSecond = (s: Side, unit: number): number => opsPerSecond(s.result) * unit;
    const lines: ChargeLine[] = [
      {
        operation: 'batched: SubmitJobEvents',
        shape: `${B} / call`,
        quotientJobsPerSecond: perSecond(qBatch, B),
        rawJobsPerSecond: perSecond(rBatch, B),
        rawShape: `${B} / tx`,
        target: 10_000,
        costs: batchCost.costs(2),
      },
      {
        operation: 'streamed: StreamJobEvents',
        shape: `${B} / stream`,
        quotientJobsPerSecond: perSecond(qStream, B),
        rawJobsPerSecond: perSecond(rBatch, B),
        rawShape: `${B} / tx`,
        target: 10_000,
        costs: streamCost.costs(2),
      },
      {
        operation: 'one per call: AuthorizeJob, CommitJob',
        shape: `${K} in flight`,
        quotientJobsPerSecond: perSecond(qCalls, perUnit),
        rawJobsPerSecond: perSecond(rCalls, perUnit),
        rawShape: `${K} / tx`,
        target: 4_000,
        costs: callCost.costs(2),
      },
    ];
    const shared: SharedLine[] = [
      {
        operation: 'batched, one hot shared account (every user)',
        jobsPerSecond: perSecond(qHot, B),
        personalJobsPerSecond: perSecond(qBatch, B),
        sameUsersJobsPerSecond: undefined,
        costs: hotCost.costs(2),
      },
      {
        operation: `batched, ${fmtCount(MANY_ACCOUNTS)} shared accounts (one per user)`,
        jobsPerSecond: perSecond(qMany, B),
        personalJobsPerSecond: perSecond(qBatch, B),
        sameUsersJobsPerSecond: perSecond(qManyPersonal, B),
        costs: manyCost.costs(2),
      },
    ];
    const breakdown = [
      {
        title: `batched, ${B} jobs per call (two durable commits: the authorisations, then the commits)`,
        steps: [
          { label: `raw driver: the statements, ${B} jobs per transaction`, jobsPerSecond: perSecond(rBatch, B) },
          { label: '+ PrintJobService.processBatch in this process (no gRPC)', jobsPerSecond: perSecond(iBatch, B) },
          { label: '+ gRPC SubmitJobEvents from the client process', jobsPerSecond: perSecond(qBatch, B) },
          { label: 'aside: raw with a SAVEPOINT per event (a batch with a refused event runs again so)', jobsPerSecond: perSecond(rBatchSp, B), aside: true },
        ],
      },
      {
        title: `one job per call, ${K} in flight (group commit)`,
        steps: [
          { label: `raw driver: the statements, ${K} jobs per transaction`, jobsPerSecond: perSecond(rCalls, perUnit) },
          { label: `+ PrintJobService.submit() in this process, ${K} in flight (no gRPC)`, jobsPerSecond: perSecond(iCalls, perUnit) },
          { label: '+ gRPC AuthorizeJob, CommitJob from the client process', jobsPerSecond: perSecond(qCalls, perUnit) },
          { label: 'aside: the same calls to the empty floor server (gRPC alone, no database)', jobsPerSecond: perSecond(qFloor, perUnit), aside: true },
          {
            label: 'aside: raw with a SAVEPOINT per event (a batch with a refused event runs again so)',
            jobsPerSecond: perSecond(rCallsSp, perUnit),
            aside: true,
          },
        ],
      },
    ];

    const pacedCost = tally();
    const pacedJobs = Math.max(1, Math.round(opts.rate * opts.latencySeconds));
    // The disk's part in the tail: every WAL fdatasync the primary waits for during the line.
    const syncs: number[] = [];
    const unobserve = running.services.db.walSync?.observe((ms) => syncs.push(ms));
    const paced = await pacedCost.run(pacedJobs, () => lg.call('paced', { prefix: 'qp', rate: opts.rate, seconds: opts.latencySeconds }));
    unobserve?.();
    const latency = { ...paced, costs: pacedCost.costs(2), walSyncs: syncs.length > 0 ? { count: syncs.length, ...percentiles(syncs) } : undefined };
    const floorPacedCost = tally();
    const floorPaced = await floorPacedCost.run(pacedJobs, () =>
      lg.call('paced', { prefix: 'qfp', rate: opts.rate, seconds: opts.latencySeconds, floor: true }),
    );
    const floor: FloorResult = {
      batched: { jobsPerSecond: perSecond(qFloorBatch, B), costs: floorBatchCost.costs(2) },
      streamed: { jobsPerSecond: perSecond(qFloorStream, B), costs: floorStreamCost.costs(2) },
      calls: { jobsPerSecond: perSecond(qFloor, perUnit), costs: floorCost.costs(2) },
      latency: { ...floorPaced, costs: floorPacedCost.costs(2) },
    };

    // The catch-up: the same outbox contents delivered twice.
    const replay = async (): Promise<ReplayResult> => {
      const cost = tally();
      const run = await cost.run(opts.replayJobs, () => lg.call('replay', { prefix: 'qr', jobs: opts.replayJobs, dir: outboxDir }));
      return { ...run, costs: cost.costs(1) };
    };
    const before = await snapshot(running, 'qr');
    const first = await replay();
    const afterFirst = await snapshot(running, 'qr');
    const again = await replay();
    const afterAgain = await snapshot(running, 'qr');

    const batched = [qBatch, qHot, qMany, qManyPersonal, qStream, rBatch, rBatchSp, iBatch].reduce((n, s) => n + s.calls, 0) * B;
    const called = [qCalls, rCalls, rCallsSp, iCalls].reduce((n, s) => n + s.calls, 0) * perUnit;
    const jobsRun = batched + called + paced.jobs + opts.replayJobs;
    return {
      dialect: target.dialect,
      floor,
      database: target.url,
      server,
      lines,
      shared,
      breakdown,
      latency,
      replay: { jobs: opts.replayJobs, first, again, before, afterFirst, afterAgain },
      verify: await running.services.ledger.verify(),
      expectedLedgerRows: base.ledgerRows + jobsRun,
      expectedPrintJobs: base.printJobs + jobsRun,
    };
  } finally {
    await load?.close();
    floorServer?.close();
    await raw?.close();
    await running.shutdown('bench done');
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(outboxDir, { recursive: true, force: true });
  }
}
