/**
 * Tells the primary every `intervalMs` that this secondary is alive, how far behind its outbox
 * is (depth and oldest pending event) and how many events the primary refused for good (its
 * dead letters, shown by `quotient secondaries` and the admin pages). Beats never overlap; a failed beat is reported, not retried
 * (the next one comes soon enough).
 */
import type { Logger } from '../../common/logger';
import type { Outbox } from '../outbox/outbox';
import { describeGrpcError } from '../primary-client/grpc-status';
import type { PrimaryClient } from '../primary-client/primary-client';

export interface HeartbeatOptions {
  client: Pick<PrimaryClient, 'heartbeat'>;
  outbox: Outbox;
  logger: Logger;
  intervalMs: number;
  onOutcome?: (err: unknown, serverTimeMs?: number) => void;
}

export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly opts: HeartbeatOptions) {}

  start(): void {
    if (this.timer || this.stopped) return;
    this.schedule();
  }

  /** Sends one beat now. */
  beat(): Promise<void> {
    this.beating ??= this.send().finally(() => {
      this.beating = undefined;
    });
    return this.beating;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.beating;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.beat().then(() => this.schedule());
    }, this.opts.intervalMs);
  }

  private async send(): Promise<void> {
    const { client, outbox, logger } = this.opts;
    const onOutcome = this.opts.onOutcome ?? (() => undefined);
    try {
      const answer = await client.heartbeat({
        outboxDepth: outbox.depth(),
        oldestPendingMs: outbox.oldestEnqueuedAt() ?? 0,
        deadLetters: outbox.deadLetterCount(),
        lastDeadLetter: outbox.lastDeadLetter(),
      });
      onOutcome(undefined, answer.serverTimeMs);
    } catch (err) {
      logger.debug({ error: describeGrpcError(err) }, 'heartbeat failed');
      onOutcome(err);
    }
  }
}
