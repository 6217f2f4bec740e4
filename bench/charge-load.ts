/**
 * The charge bench's load generator: a child process playing a print secondary against the
 * primary the bench started (see charge-ipc.ts for the commands). It talks through the
 * secondary's own gRPC client (secondary/primary-client) and, for the catch-up, drains a real
 * outbox with the secondary's own OutboxSender. Run by the bench, not by hand.
 */
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { createLogger } from '../common/logger';
import { loadQuotientProto } from '../protos/load';
import type { JobEvent } from '../protos/generated/quotient/v1/JobEvent';
import type { JobEventResult__Output } from '../protos/generated/quotient/v1/JobEventResult';
import type { PrintJob } from '../protos/generated/quotient/v1/PrintJob';
import type { PrintingClient } from '../protos/generated/quotient/v1/Printing';
import { offlineEvent } from '../secondary/outbox/job-events';
import { Outbox } from '../secondary/outbox/outbox';
import { OutboxSender } from '../secondary/outbox/sender';
import { PrimaryClient } from '../secondary/primary-client/primary-client';
import {
  BENCH_JOB,
  BENCH_JOB_COST,
  HOT_CODE,
  jobId,
  MANY_ACCOUNTS,
  MANY_USER_PREFIX,
  manyCode,
  type JobSet,
  type LoadAnswer,
  type LoadCommand,
  type LoadCommands,
  type LoadMessage,
  percentiles,
  type ReplayRun,
} from './charge-ipc';
import { runOps } from './harness';

/** Generous: a slow MariaDB batch must not turn into a spurious failure; the figures are timed apart. */
const DEADLINE_MS = 60_000;

interface Connection {
  client: PrimaryClient;
  /** For StreamJobEvents, which PrimaryClient does not wrap. */
  printing: PrintingClient;
  queue: string;
  users: number;
  userPrefix: string;
}

let conn: Connection | undefined;
/** The same client against the bench's empty gRPC server (floorConnect): what grpc-js alone costs. */
let floorConn: Connection | undefined;

function connected(floor = false): Connection {
  const c = floor ? floorConn : conn;
  if (!c) throw new Error(floor ? 'not connected to the floor server' : 'not connected');
  return c;
}

/** A generated Printing client for StreamJobEvents; the calls carry the PrimaryClient's metadata. */
function printingClient(port: number): PrintingClient {
  return new (loadQuotientProto().quotient.v1.Printing)(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}

function job(c: Connection, prefix: string, i: number, billing?: JobSet['billing']): PrintJob & { jobId: string } {
  const base = { jobId: jobId(prefix, i), queue: c.queue, colourPages: 0, duplex: false, ...BENCH_JOB };
  if (billing === 'hot') return { ...base, username: `${c.userPrefix}${i % c.users}`, accountCode: HOT_CODE };
  if (billing === 'many') return { ...base, username: `${MANY_USER_PREFIX}${i % MANY_ACCOUNTS}`, accountCode: manyCode(i % MANY_ACCOUNTS) };
  if (billing === 'many-personal') return { ...base, username: `${MANY_USER_PREFIX}${i % MANY_ACCOUNTS}` };
  return { ...base, username: `${c.userPrefix}${i % c.users}` };
}

function range(set: JobSet): number[] {
  return Array.from({ length: set.count }, (_, k) => set.first + k);
}

/** The bench only ever sends jobs that must be allowed and charged in full: anything else is a bug. */
function checkAuthorized(id: string, r: { decision?: string; reason?: string } | null | undefined): void {
  if (r?.decision !== 'DECISION_ALLOW') throw new Error(`job ${id} was not allowed: ${r?.decision ?? 'no answer'} ${r?.reason ?? ''}`);
}

function checkCommitted(id: string, r: { cost?: number } | null | undefined): void {
  if (r?.cost !== BENCH_JOB_COST) throw new Error(`job ${id} was charged ${String(r?.cost)}, expected ${BENCH_JOB_COST}`);
}

function checkResults(results: JobEventResult__Output[], ids: string[], kind: 'authorized' | 'committed'): void {
  if (results.length !== ids.length) throw new Error(`${results.length} results for ${ids.length} events`);
  results.forEach((r, k) => {
    const id = ids[k] ?? '';
    if (r.jobId !== id) throw new Error(`result ${k} is for ${r.jobId}, expected ${id}`);
    if (r.result === 'error') throw new Error(`job ${id}: ${r.error?.quotientCode ?? ''} ${r.error?.message ?? ''}`);
    if (kind === 'authorized') checkAuthorized(id, r.authorized);
    else checkCommitted(id, r.committed);
  });
}

type Handlers = { [K in LoadCommand]: (args: LoadCommands[K]['req']) => Promise<LoadCommands[K]['res']> };

const handlers: Handlers = {
  async connect(a) {
    const client = new PrimaryClient({ address: `127.0.0.1:${a.port}`, name: a.name, clusterSecret: a.secret, callDeadlineMs: DEADLINE_MS });
    await client.register({
      name: a.name,
      role: 'ROLE_PRINT',
      version: 'bench',
      host: 'localhost',
      printers: [{ queue: a.queue, description: 'bench queue' }],
    });
    conn = { client, printing: printingClient(a.port), queue: a.queue, users: a.users, userPrefix: a.userPrefix };
    return { registered: a.name };
  },

  floorConnect(a) {
    const client = new PrimaryClient({
      address: `127.0.0.1:${a.port}`,
      name: 'bench-floor',
      clusterSecret: 'not checked by the floor server',
      callDeadlineMs: DEADLINE_MS,
    });
    floorConn = { ...connected(), client, printing: printingClient(a.port) };
    return Promise.resolve(null);
  },

  async batch(set) {
    const c = connected(set.floor);
    const ids = range(set);
    const names = ids.map((i) => jobId(set.prefix, i));
    const authorized = await c.client.submitJobEvents(
      { events: ids.map((i) => ({ authorize: { job: job(c, set.prefix, i, set.billing) } })) },
      { deadlineMs: DEADLINE_MS },
    );
    checkResults(authorized.results, names, 'authorized');
    const committed = await c.client.submitJobEvents({ events: names.map((id) => ({ commit: { jobId: id } })) }, { deadlineMs: DEADLINE_MS });
    checkResults(committed.results, names, 'committed');
    return null;
  },

  stream(set) {
    const c = connected(set.floor);
    return new Promise<null>((resolve, reject) => {
      const call = c.printing.StreamJobEvents(c.client.metadata(), { deadline: Date.now() + DEADLINE_MS });
      let committed = 0;
      let failed = false;
      const fail = (err: Error): void => {
        if (failed) return;
        failed = true;
        call.cancel();
        reject(err);
      };
      call.on('data', (r: JobEventResult__Output) => {
        try {
          if (r.result === 'authorized') {
            checkAuthorized(r.jobId, r.authorized);
            const commit: JobEvent = { commit: { jobId: r.jobId } };
            call.write(commit);
          } else if (r.result === 'committed') {
            checkCommitted(r.jobId, r.committed);
            if (++committed === set.count) call.end();
          } else {
            throw new Error(`job ${r.jobId}: ${r.result ?? 'no result'} ${r.error?.message ?? ''}`);
          }
        } catch (err) {
          fail(err as Error);
        }
      });
      call.on('error', (err) => fail(err));
      call.on('status', (s: grpc.StatusObject) => {
        if (failed) return;
        if (s.code !== grpc.status.OK) fail(new Error(`stream ended with ${s.code}: ${s.details}`));
        else if (committed !== set.count) fail(new Error(`stream ended after ${committed} of ${set.count} commits`));
        else resolve(null);
      });
      for (const i of range(set)) {
        const authorize: JobEvent = { authorize: { job: job(c, set.prefix, i) } };
        call.write(authorize);
      }
    });
  },

  async calls(set) {
    const c = connected(set.floor);
    await runOps(
      async (i) => {
        const j = job(c, set.prefix, i);
        checkAuthorized(j.jobId, await c.client.authorizeJob({ job: j }));
        checkCommitted(j.jobId, await c.client.commitJob({ jobId: j.jobId }));
      },
      set.first,
      set.count,
      set.inFlight,
    );
    return null;
  },

  paced(a) {
    const c = connected(a.floor);
    const total = Math.max(1, Math.round(a.rate * a.seconds));
    const authorize: number[] = [];
    const fromSend: number[] = [];
    const commit: number[] = [];
    const interval = 1000 / a.rate;
    return new Promise((resolve, reject) => {
      const start = performance.now();
      let sent = 0;
      let done = 0;
      let failed = false;
      const launch = (i: number): void => {
        // Measured from when the schedule said to send, so a late client or a queue at the
        // server both count (no coordinated omission).
        const scheduled = start + i * interval;
        const j = job(c, a.prefix, i);
        void (async () => {
          const sent = performance.now();
          const answer = await c.client.authorizeJob({ job: j });
          const answered = performance.now();
          authorize.push(answered - scheduled);
          fromSend.push(answered - sent);
          checkAuthorized(j.jobId, answer);
          const committing = performance.now();
          checkCommitted(j.jobId, await c.client.commitJob({ jobId: j.jobId }));
          commit.push(performance.now() - committing);
        })().then(
          () => {
            if (++done === total) {
              const elapsed = (performance.now() - start) / 1000;
              resolve({
                jobs: total,
                answeredPerSecond: total / Math.max(elapsed, a.seconds),
                authorize: percentiles(authorize),
                authorizeFromSend: percentiles(fromSend),
                commit: percentiles(commit),
              });
            }
          },
          (err: unknown) => {
            if (!failed) reject(err as Error);
            failed = true;
          },
        );
      };
      const tick = (): void => {
        if (failed) return;
        const due = Math.min(total, Math.floor((performance.now() - start) / interval) + 1);
        while (sent < due) launch(sent++);
        if (sent < total) setTimeout(tick, Math.max(0, start + sent * interval - performance.now()));
      };
      tick();
    });
  },

  async replay(a) {
    const c = connected();
    const logger = createLogger('bench-secondary', 'warn');
    const outbox = Outbox.open({ dataDir: a.dir, logger });
    // The same keys every time: once the first replay has emptied the outbox, they go in again.
    const fill = (): Promise<unknown> =>
      Promise.all(Array.from({ length: a.jobs }, (_, i) => outbox.enqueue(offlineEvent(job(c, a.prefix, i), undefined, false))));
    // A secondary restarting after the outage: a fresh sender with the daemon's defaults.
    const drain = async (): Promise<ReplayRun> => {
      const sender = new OutboxSender({ outbox, client: c.client, logger });
      const start = performance.now();
      sender.start();
      await sender.whenIdle();
      const ms = performance.now() - start;
      await sender.stop();
      const { delivered, deadLettered, calls, failedCalls } = sender.stats;
      return { ms, delivered, deadLettered, calls, failedCalls, left: outbox.depth() };
    };
    try {
      await fill();
      return await drain();
    } finally {
      outbox.close();
    }
  },
};

process.on('message', (msg: LoadMessage) => {
  const handler = handlers[msg.cmd] as (args: unknown) => Promise<unknown>;
  const cpu = process.cpuUsage();
  handler(msg.args).then(
    (res) => {
      const used = process.cpuUsage(cpu);
      process.send?.({ id: msg.id, ok: true, res, cpuUs: used.user + used.system } satisfies LoadAnswer);
    },
    (err: unknown) => process.send?.({ id: msg.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies LoadAnswer),
  );
});

// The bench closed the channel: done.
process.on('disconnect', () => {
  for (const c of [conn, floorConn]) {
    c?.client.close();
    c?.printing.close();
  }
  process.exit(0);
});
