/**
 * Keeps Cluster.Watch open: the primary's stream of blocked users and configuration changes,
 * applied to the ControlState as they arrive. The stream is reopened with jittered backoff
 * whenever it ends; a gap in the sequence numbers means an event was missed, so the stream is
 * reopened at once to get a fresh snapshot.
 */
import { status, type ClientReadableStream } from '@grpc/grpc-js';
import type { Logger } from '../../common/logger';
import type { ControlEvent__Output } from '../../protos/generated/quotient/v1/ControlEvent';
import type { ControlState } from '../control-state';
import { Backoff, sleep, type BackoffPolicy } from '../primary-client/backoff';
import { describeGrpcError, grpcCode } from '../primary-client/grpc-status';
import type { PrimaryClient } from '../primary-client/primary-client';

export interface ControlStreamOptions {
  client: Pick<PrimaryClient, 'watch'>;
  control: ControlState;
  logger: Logger;
  backoff?: BackoffPolicy;
  /** Told how each stream went: undefined when events arrive, the error when it fails. */
  onOutcome?: (err: unknown) => void;
}

export class ControlStream {
  private readonly backoff: Backoff;
  private readonly stopController = new AbortController();
  private backoffWake = new AbortController();
  private stream: ClientReadableStream<ControlEvent__Output> | undefined;
  private running: Promise<void> | undefined;
  private syncedWaiters: (() => void)[] = [];
  private synced = false;

  constructor(private readonly opts: ControlStreamOptions) {
    this.backoff = new Backoff(opts.backoff ?? { baseMs: 500, maxMs: 30_000 });
  }

  start(): void {
    if (this.running || this.stopController.signal.aborted) return;
    this.running = this.loop();
  }

  /** The primary answered another call: reopen now instead of finishing the backoff wait. */
  resume(): void {
    this.backoff.reset();
    this.backoffWake.abort();
  }

  /** Resolves once the current stream has delivered its snapshot and configuration. */
  whenSynced(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncedWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    this.stopController.abort();
    this.backoffWake.abort();
    this.stream?.cancel();
    await this.running;
  }

  private async loop(): Promise<void> {
    const signal = this.stopController.signal;
    while (!signal.aborted) {
      // A resume() while a stream was open must not cut short the wait after the next failure.
      if (this.backoffWake.signal.aborted) this.backoffWake = new AbortController();
      const outcome = await this.runStream();
      if (signal.aborted) break;
      if (outcome === 'gap') continue;
      const delay = this.backoff.next();
      this.opts.logger.debug({ retryInMs: delay }, 'control stream ended; reopening');
      const wake = this.backoffWake.signal;
      await sleep(delay, AbortSignal.any([signal, wake]));
      if (wake.aborted) this.backoffWake = new AbortController();
    }
  }

  /** One stream, until it ends. */
  private runStream(): Promise<'ended' | 'gap'> {
    const { client, logger, control } = this.opts;
    const onOutcome = this.opts.onOutcome ?? (() => undefined);
    return new Promise((resolve) => {
      const stream = client.watch();
      this.stream = stream;
      this.synced = false;
      let last: number | undefined;
      let gotSnapshot = false;
      let settled = false;
      const finish = (how: 'ended' | 'gap'): void => {
        if (settled) return;
        settled = true;
        this.stream = undefined;
        resolve(how);
      };
      stream.on('data', (event: ControlEvent__Output) => {
        if (last !== undefined && event.sequence !== last + 1) {
          logger.warn({ expected: last + 1, got: event.sequence }, 'control stream skipped events; reconnecting for a fresh snapshot');
          finish('gap');
          stream.cancel();
          return;
        }
        if (last === undefined) {
          this.backoff.reset();
          onOutcome(undefined);
        }
        last = event.sequence;
        switch (event.event) {
          case 'blockedSnapshot':
            control.applySnapshot(event.blockedSnapshot?.users ?? []);
            gotSnapshot = true;
            break;
          case 'blockChange':
            if (event.blockChange) control.applyBlockChange(event.blockChange);
            break;
          case 'config':
            if (event.config) control.applyConfig(event.config);
            // The snapshot comes first, then the configuration: now the state is complete.
            if (gotSnapshot && !this.synced) {
              this.synced = true;
              const waiters = this.syncedWaiters;
              this.syncedWaiters = [];
              for (const w of waiters) w();
            }
            break;
          default:
            logger.debug({ sequence: event.sequence }, 'control event of an unknown kind ignored');
        }
      });
      stream.on('error', (err) => {
        if (grpcCode(err) !== status.CANCELLED || !this.stopController.signal.aborted) {
          if (grpcCode(err) !== status.CANCELLED) onOutcome(err);
          logger.debug({ error: describeGrpcError(err) }, 'control stream failed');
        }
        finish('ended');
      });
      stream.on('end', () => finish('ended'));
      stream.on('status', () => finish('ended'));
    });
  }
}
