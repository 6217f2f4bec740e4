/**
 * Drains the outbox to the primary with Printing.SubmitJobEvents: batches of up to `batchSize`
 * events, acknowledged (deleted) only after the primary answered, which it does after its durable
 * commit. Replays send the same events with the same job ids, so the primary charges each once.
 *
 * - Whole-call transient failures (primary down, overloaded, deadline): wait with capped,
 *   jittered backoff and try again, for as long as it takes; nothing is dropped.
 * - A whole call refused as malformed: halve the batch until the culprit is alone, then
 *   dead-letter it, so one bad event cannot block the rest.
 * - Per-event errors (EventError): INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION and the other
 *   "the request is wrong" codes go to the dead-letter table at once; transient ones are retried
 *   with backoff; anything else is retried up to `maxEventAttempts` times, then dead-lettered.
 * - A dead-lettered commit or offline record may leave its job's cost held on the primary: a
 *   release of the job takes its place in the outbox, in the same transaction (releasing a job
 *   the primary holds nothing for changes nothing). The dead letter stays for an administrator.
 */
import { status } from '@grpc/grpc-js';
import type { Logger } from '../../common/logger';
import type { JobEvent } from '../../protos/generated/quotient/v1/JobEvent';
import type { JobEventResult__Output } from '../../protos/generated/quotient/v1/JobEventResult';
import { Backoff, backoffDelay, sleep, type BackoffPolicy } from '../primary-client/backoff';
import { describeGrpcError, grpcCode, isPermanentCode, isRetryable } from '../primary-client/grpc-status';
import type { PrimaryClient } from '../primary-client/primary-client';
import { jobIdOf, releaseEvent } from './job-events';
import { JOB_EVENT_KINDS, type NewOutboxEvent, type Outbox, type OutboxEvent } from './outbox';

export interface SenderOptions {
  outbox: Outbox;
  client: Pick<PrimaryClient, 'submitJobEvents'>;
  logger: Logger;
  /** Events per call; the protocol allows 5,000. */
  batchSize?: number;
  /** Deadline of one batch call. */
  batchDeadlineMs?: number;
  /** Waits between whole-call failures. */
  backoff?: BackoffPolicy;
  /** Waits before retrying one event that failed on its own. */
  eventBackoff?: BackoffPolicy;
  /** Attempts for an event failing with an unexpected per-event error before it is dead-lettered. */
  maxEventAttempts?: number;
  /** Told about every call's outcome (undefined = the primary answered), so the daemon knows whether the primary is reachable. */
  onCallOutcome?: (err: unknown) => void;
}

export interface SenderStats {
  delivered: number;
  deadLettered: number;
  calls: number;
  failedCalls: number;
  lastError: string | undefined;
}

const MAX_BATCH = 5000;

export class OutboxSender {
  readonly stats: SenderStats = { delivered: 0, deadLettered: 0, calls: 0, failedCalls: 0, lastError: undefined };
  private readonly outbox: Outbox;
  private readonly client: Pick<PrimaryClient, 'submitJobEvents'>;
  private readonly logger: Logger;
  private readonly maxBatch: number;
  private readonly batchDeadlineMs: number;
  private readonly backoff: Backoff;
  private readonly eventBackoff: BackoffPolicy;
  private readonly maxEventAttempts: number;
  private readonly onCallOutcome: (err: unknown) => void;
  private batchSize: number;
  private running: Promise<void> | undefined;
  private stopping = false;
  private readonly stopController = new AbortController();
  /** Aborted to cut short an idle wait (new events) or a backoff wait (the primary is back). */
  private idleWake = new AbortController();
  private backoffWake = new AbortController();
  private unsubscribe: (() => void) | undefined;
  private idleWaiters: (() => void)[] = [];
  /** Waiting with nothing due (set false synchronously by wake(), so whenIdle() cannot see a stale idle). */
  private idle = false;

  constructor(opts: SenderOptions) {
    this.outbox = opts.outbox;
    this.client = opts.client;
    this.logger = opts.logger;
    this.maxBatch = Math.min(MAX_BATCH, Math.max(1, opts.batchSize ?? 2000));
    this.batchSize = this.maxBatch;
    this.batchDeadlineMs = opts.batchDeadlineMs ?? 30_000;
    this.backoff = new Backoff(opts.backoff ?? { baseMs: 500, maxMs: 30_000 });
    this.eventBackoff = opts.eventBackoff ?? { baseMs: 1000, maxMs: 5 * 60_000 };
    this.maxEventAttempts = opts.maxEventAttempts ?? 20;
    this.onCallOutcome = opts.onCallOutcome ?? (() => undefined);
  }

  /** Starts draining; wakes on every enqueue. Idempotent. */
  start(): void {
    if (this.running || this.stopping) return;
    this.unsubscribe = this.outbox.onEnqueue(() => this.wake());
    this.running = this.loop().catch((err: unknown) => {
      this.logger.error({ err }, 'outbox sender stopped on an unexpected error');
    });
  }

  /** New events: stop waiting idle. (A backoff wait after a failure is not cut short by this.) */
  wake(): void {
    this.idle = false;
    this.idleWake.abort();
  }

  /** The primary is reachable again: retry now instead of finishing the backoff wait. */
  resume(): void {
    this.idle = false;
    this.backoff.reset();
    this.backoffWake.abort();
    this.idleWake.abort();
  }

  /** Resolves now when the sender waits with nothing due to send, else when it next does. */
  whenIdle(): Promise<void> {
    return this.idle ? Promise.resolve() : this.nextIdle();
  }

  /** Resolves the next time the sender looks and finds nothing due to send. */
  nextIdle(): Promise<void> {
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops after cancelling any call in flight (its events stay in the outbox). Idempotent. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.unsubscribe?.();
    this.stopController.abort();
    this.idleWake.abort();
    this.backoffWake.abort();
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      let batch: OutboxEvent[];
      try {
        batch = this.outbox.nextBatch(this.batchSize, JOB_EVENT_KINDS);
      } catch (err) {
        this.logger.error({ err }, 'cannot read the outbox');
        await this.waitBackoff();
        continue;
      }
      if (batch.length === 0) {
        await this.waitIdle();
        continue;
      }
      await this.send(batch);
    }
  }

  private async send(batch: OutboxEvent[]): Promise<void> {
    this.stats.calls++;
    let results: JobEventResult__Output[];
    try {
      const answer = await this.client.submitJobEvents(
        { events: batch.map((e) => e.payload as JobEvent) },
        { deadlineMs: this.batchDeadlineMs, signal: this.stopController.signal },
      );
      results = answer.results;
    } catch (err) {
      if (this.stopping) return;
      this.stats.failedCalls++;
      this.stats.lastError = describeGrpcError(err);
      this.onCallOutcome(err);
      await this.onCallFailure(err, batch);
      return;
    }
    this.onCallOutcome(undefined);
    if (results.length !== batch.length) {
      this.stats.lastError = `the primary answered ${results.length} results for ${batch.length} events`;
      this.logger.error({ sent: batch.length, answered: results.length }, 'the primary answered a batch with the wrong number of results; will resend it');
      await this.waitBackoff();
      return;
    }
    this.backoff.reset();
    if (this.backoffWake.signal.aborted && !this.stopping) this.backoffWake = new AbortController();
    this.batchSize = Math.min(this.maxBatch, this.batchSize * 2);
    try {
      this.settle(batch, results);
    } catch (err) {
      // Bookkeeping could not be written (disk full): the events are sent again later; the primary dedupes them.
      this.logger.error({ err }, 'cannot record delivered events in the outbox');
      await this.waitBackoff();
    }
  }

  private settle(batch: OutboxEvent[], results: JobEventResult__Output[]): void {
    const delivered: number[] = [];
    batch.forEach((event, i) => {
      const result = results[i];
      const jobId = jobIdOf(event.payload as JobEvent);
      if (!result || result.jobId !== jobId) {
        this.logger.error({ eventId: event.id, jobId, answeredFor: result?.jobId }, 'the primary answered for another job; will resend the event');
        return;
      }
      if (result.result !== 'error') {
        if (result.result === undefined) {
          this.eventFailed(event, status.INTERNAL, 'the primary answered without a result');
        } else {
          delivered.push(event.id);
        }
        return;
      }
      const error = result.error;
      this.eventFailed(event, error?.code ?? status.UNKNOWN, `${error?.quotientCode ? `${error.quotientCode}: ` : ''}${error?.message ?? 'no message'}`);
    });
    this.outbox.ack(delivered);
    this.stats.delivered += delivered.length;
  }

  /** One event failed on its own. */
  private eventFailed(event: OutboxEvent, code: number, message: string): void {
    const reason = `${status[code] ?? code}: ${message}`;
    if (isPermanentCode(code) || (!isRetryable({ code }) && event.attempts + 1 >= this.maxEventAttempts)) {
      this.outbox.fail(event.id, reason, (e) => releaseAfterRefusal(e, reason));
      this.stats.deadLettered++;
      return;
    }
    this.outbox.retryLater(event.id, backoffDelay(event.attempts, this.eventBackoff), reason);
  }

  private async onCallFailure(err: unknown, batch: OutboxEvent[]): Promise<void> {
    const code = grpcCode(err);
    const description = describeGrpcError(err);
    if (code === status.DEADLINE_EXCEEDED || code === status.RESOURCE_EXHAUSTED) {
      // Maybe too much at once for the primary: smaller batches until calls succeed again.
      this.batchSize = Math.max(1, Math.floor(batch.length / 2));
    }
    if (code === status.INVALID_ARGUMENT || code === status.OUT_OF_RANGE) {
      // The primary refused the whole call as malformed: bisect to find the event at fault.
      // (Other refusals of a whole call, e.g. PERMISSION_DENIED, are about this secondary, not an
      // event: they are waited out below rather than dead-lettering every event.)
      if (batch.length > 1) {
        this.batchSize = Math.max(1, Math.floor(batch.length / 2));
        this.logger.warn({ size: batch.length, error: description }, 'the primary refused a batch; sending smaller batches to find the bad event');
        return;
      }
      const [event] = batch;
      if (event) this.eventFailed(event, code, description);
      return;
    }
    if (code === status.INTERNAL || code === status.UNKNOWN || code === undefined) {
      // Maybe a poison event, maybe a passing fault: bisect, and count attempts against a lone event.
      if (batch.length > 1) {
        this.batchSize = Math.max(1, Math.floor(batch.length / 2));
      } else if (batch[0]) {
        this.eventFailed(batch[0], code ?? status.UNKNOWN, description);
      }
    }
    const delay = this.backoff.next();
    const level = this.backoff.attempts <= 1 ? 'warn' : 'debug';
    this.logger[level]({ error: description, waiting: batch.length, retryInMs: delay }, 'cannot deliver outbox events to the primary; will retry');
    await sleep(delay, this.backoffWake.signal);
    if (this.backoffWake.signal.aborted) this.backoffWake = new AbortController();
  }

  private async waitBackoff(): Promise<void> {
    await sleep(this.backoff.next(), this.backoffWake.signal);
    if (this.backoffWake.signal.aborted) this.backoffWake = new AbortController();
  }

  /** Waits for an enqueue, for the next event held back by retryLater(), or for stop(). */
  private async waitIdle(): Promise<void> {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
    let dueAt: number | undefined;
    try {
      dueAt = this.outbox.nextDueAt(JOB_EVENT_KINDS);
    } catch {
      dueAt = undefined;
    }
    const ms = dueAt === undefined ? 60_000 : Math.max(10, dueAt - Date.now());
    if (!this.idleWake.signal.aborted) {
      this.idle = true;
      await sleep(ms, this.idleWake.signal);
      this.idle = false;
    }
    this.idleWake = new AbortController();
  }
}

/**
 * The release that replaces a refused commit or offline record, so no money stays held for a job
 * the primary will never be told about; nothing for a refused release (nothing is held then).
 */
export function releaseAfterRefusal(event: OutboxEvent, reason: string): NewOutboxEvent | undefined {
  if (event.kind !== 'job.commit' && event.kind !== 'job.offline') return undefined;
  const jobId = jobIdOf(event.payload as JobEvent);
  if (!jobId) return undefined;
  return releaseEvent(
    jobId,
    `its ${event.kind === 'job.commit' ? 'commit' : 'offline record'} was refused by the primary (${reason}); released so nothing stays held`,
  );
}
