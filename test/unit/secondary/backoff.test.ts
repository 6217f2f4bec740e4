import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { Backoff, backoffDelay, sleep, withRetry } from '../../../secondary/primary-client/backoff';
import { isPermanent, isRetryable } from '../../../secondary/primary-client/grpc-status';

const policy = { baseMs: 100, maxMs: 2000 };
const grpcError = (code: status): Error & { code: status } => Object.assign(new Error(status[code]), { code });

describe('backoffDelay()', () => {
  it('draws each wait from [cap/2, cap] with cap = min(max, base * 2^attempt)', () => {
    const caps = [100, 200, 400, 800, 1600, 2000, 2000, 2000];
    caps.forEach((cap, attempt) => {
      assert.equal(
        backoffDelay(attempt, policy, () => 0),
        cap / 2,
        `lowest wait of attempt ${attempt}`,
      );
      assert.equal(
        backoffDelay(attempt, policy, () => 0.999999),
        cap,
        `highest wait of attempt ${attempt}`,
      );
    });
  });

  it('never waits zero nor beyond the maximum, whatever the random draw and however many attempts', () => {
    for (let attempt = 0; attempt < 200; attempt++) {
      const d = backoffDelay(attempt, policy);
      assert.ok(d >= 50 && d <= 2000, `attempt ${attempt}: ${d}`);
    }
  });

  it('spreads waits (jitter): different draws give different waits', () => {
    assert.notEqual(
      backoffDelay(3, policy, () => 0.1),
      backoffDelay(3, policy, () => 0.9),
    );
  });
});

describe('Backoff', () => {
  it('grows with each failure and starts over after reset()', () => {
    const b = new Backoff(policy, () => 0.999999);
    assert.deepEqual([b.next(), b.next(), b.next()], [100, 200, 400]);
    assert.equal(b.attempts, 3);
    b.reset();
    assert.equal(b.next(), 100);
  });
});

describe('withRetry()', () => {
  const fast = { baseMs: 1, maxMs: 2 };

  it('retries UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED and ABORTED, up to maxAttempts', async () => {
    for (const code of [status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.RESOURCE_EXHAUSTED, status.ABORTED]) {
      let calls = 0;
      await assert.rejects(
        withRetry(
          async () => {
            calls++;
            throw grpcError(code);
          },
          { ...fast, maxAttempts: 4 },
        ),
        (err: { code: status }) => err.code === code,
      );
      assert.equal(calls, 4, status[code]);
    }
  });

  it('does not retry anything else: the request itself is wrong, or the caller is not allowed', async () => {
    for (const code of [status.INVALID_ARGUMENT, status.NOT_FOUND, status.FAILED_PRECONDITION, status.UNAUTHENTICATED, status.INTERNAL]) {
      let calls = 0;
      await assert.rejects(
        withRetry(
          async () => {
            calls++;
            throw grpcError(code);
          },
          { ...fast, maxAttempts: 4 },
        ),
      );
      assert.equal(calls, 1, status[code]);
    }
  });

  it('returns the first success, reporting each retry with its wait', async () => {
    const retries: [number, number][] = [];
    const result = await withRetry(
      async (attempt) => {
        if (attempt < 2) throw grpcError(status.UNAVAILABLE);
        return 'ok';
      },
      { baseMs: 10, maxMs: 20, maxAttempts: 5, random: () => 0, onRetry: (_e, n, d) => retries.push([n, d]) },
    );
    assert.equal(result, 'ok');
    assert.deepEqual(retries, [
      [1, 5],
      [2, 10],
    ]);
  });

  it('stops waiting and throws the last error when aborted', async () => {
    const controller = new AbortController();
    let calls = 0;
    const started = Date.now();
    const run = withRetry(
      async () => {
        calls++;
        throw grpcError(status.UNAVAILABLE);
      },
      { baseMs: 60_000, maxMs: 60_000, maxAttempts: 10, signal: controller.signal },
    );
    controller.abort();
    await assert.rejects(run, (err: { code: status }) => err.code === status.UNAVAILABLE);
    assert.equal(calls, 1);
    assert.ok(Date.now() - started < 1000);
  });
});

describe('sleep()', () => {
  it('resolves true after the full time, false at once when aborted', async () => {
    assert.equal(await sleep(1), true);
    const controller = new AbortController();
    const pending = sleep(60_000, controller.signal);
    controller.abort();
    assert.equal(await pending, false);
  });
});

describe('gRPC status classes', () => {
  it('tells retryable statuses from permanent ones', () => {
    assert.equal(isRetryable(grpcError(status.UNAVAILABLE)), true);
    assert.equal(isRetryable(grpcError(status.INVALID_ARGUMENT)), false);
    assert.equal(isRetryable(new Error('no code')), false);
    assert.equal(isPermanent(grpcError(status.FAILED_PRECONDITION)), true);
    assert.equal(isPermanent(grpcError(status.UNAVAILABLE)), false);
    assert.equal(isPermanent(grpcError(status.UNAUTHENTICATED)), false);
  });
});
