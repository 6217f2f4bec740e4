/**
 * Delivers usage reports from the outbox (kind usage.report) to the primary's
 * Internet.ReportUsage, oldest first, one report per call, with the same report id however often
 * it is sent (the primary charges a report id once). Acknowledged reports leave the outbox;
 * transient failures wait with capped jittered backoff; a report the primary refuses as invalid
 * is dead-lettered (kept, not retried forever). Blocked users come back on Cluster.Watch; the
 * answer's blocked_users is only logged.
 */
import type { Logger } from '../../common/logger';
import type { UsageReport } from '../../protos/generated/quotient/v1/UsageReport';
import type { Outbox } from '../outbox/outbox';
import { Backoff, sleep } from '../primary-client/backoff';
import { describeGrpcError, isPermanent } from '../primary-client/grpc-status';
import type { PrimaryClient } from '../primary-client/primary-client';

const KINDS = ['usage.report'] as const;

export class UsageReportSender {
  private readonly backoff = new Backoff({ baseMs: 200, maxMs: 30_000 });
  private readonly stopController = new AbortController();
  private wakeController = new AbortController();
  private running: Promise<void> | undefined;
  private unsubscribe: (() => void) | undefined;
  private idleWaiters: (() => void)[] = [];
  delivered = 0;

  constructor(private readonly deps: { outbox: Outbox; client: PrimaryClient; logger: Logger; deadlineMs: number; onCallOutcome?: (err: unknown) => void }) {}

  start(): void {
    if (this.running) return;
    this.unsubscribe = this.deps.outbox.onEnqueue(() => this.wake());
    this.running = this.loop();
  }

  wake(): void {
    this.wakeController.abort();
  }

  /** Resolves when no usage report is waiting. */
  async whenIdle(): Promise<void> {
    while (this.deps.outbox.nextBatch(1, KINDS).length > 0 || this.deps.outbox.nextDueAt(KINDS) !== undefined) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
  }

  async stop(): Promise<void> {
    this.stopController.abort();
    this.wake();
    this.unsubscribe?.();
    await this.running;
  }

  private async loop(): Promise<void> {
    const { outbox, client, logger } = this.deps;
    while (!this.stopController.signal.aborted) {
      const [event] = outbox.nextBatch(1, KINDS);
      if (!event) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
        if (this.wakeController.signal.aborted) this.wakeController = new AbortController();
        const due = outbox.nextDueAt(KINDS);
        await sleep(due === undefined ? 60_000 : Math.max(10, due - Date.now()), AbortSignal.any([this.wakeController.signal, this.stopController.signal]));
        continue;
      }
      try {
        const answer = await client.reportUsage(event.payload as UsageReport, { deadlineMs: this.deps.deadlineMs, signal: this.stopController.signal });
        this.deps.onCallOutcome?.(undefined);
        this.backoff.reset();
        outbox.ack([event.id]);
        this.delivered++;
        if (answer.blockedUsers.length > 0) logger.info({ reportId: answer.reportId, blocked: answer.blockedUsers }, 'users ran out of credit');
      } catch (err) {
        if (this.stopController.signal.aborted) return;
        this.deps.onCallOutcome?.(err);
        if (isPermanent(err)) {
          logger.error({ reportId: event.key, error: describeGrpcError(err) }, 'the primary refused a usage report; kept as a dead letter');
          outbox.fail(event.id, describeGrpcError(err));
          continue;
        }
        const delay = this.backoff.next();
        logger[this.backoff.attempts <= 1 ? 'warn' : 'debug'](
          { reportId: event.key, error: describeGrpcError(err), retryInMs: delay },
          'cannot deliver a usage report; will retry',
        );
        await sleep(delay, this.stopController.signal);
      }
    }
  }
}
