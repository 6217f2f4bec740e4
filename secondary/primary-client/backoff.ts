/**
 * Jittered exponential backoff and bounded retries for calls to the primary (STYLE practice 9):
 * each wait is drawn from [cap/2, cap] with cap = min(maxMs, baseMs * 2^attempt), so many
 * secondaries coming back after an outage do not retry in lockstep, and no wait is ever zero or
 * beyond the maximum. Only the statuses `isRetryable` names are retried.
 */
import { isRetryable } from './grpc-status';

export interface BackoffPolicy {
  /** Upper bound of the first wait. */
  baseMs: number;
  /** Upper bound of every wait. */
  maxMs: number;
}

/** The wait before retry number `attempt` (0 = the first retry). */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(0, attempt), 30);
  const cap = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  return Math.round(cap / 2 + (random() * cap) / 2);
}

/** Successive waits for a loop that retries until it succeeds (reconnects, the outbox sender). */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly policy: BackoffPolicy,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    return backoffDelay(this.attempt++, this.policy, this.random);
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}

/** Waits `ms`, or less when `signal` aborts. Resolves true when the full time passed. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (full: boolean): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(full);
    };
    const onAbort = (): void => done(false);
    const timer = setTimeout(() => done(true), Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface RetryOptions extends BackoffPolicy {
  /** Attempts in all, the first included; at least 1. */
  maxAttempts: number;
  /** Stops retrying (the last error is thrown) when aborted. */
  signal?: AbortSignal;
  /** Which errors are worth another attempt; default: UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED. */
  retryable?: (err: unknown) => boolean;
  random?: () => number;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/** Runs `fn` until it succeeds, throws a non-retryable error, or runs out of attempts. */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const retryable = opts.retryable ?? isRetryable;
  const maxAttempts = Math.max(1, Math.floor(opts.maxAttempts));
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt + 1 >= maxAttempts || !retryable(err) || opts.signal?.aborted) throw err;
      const delay = backoffDelay(attempt, opts, opts.random);
      opts.onRetry?.(err, attempt + 1, delay);
      if (!(await sleep(delay, opts.signal))) throw err;
    }
  }
}
