/**
 * The sender's decisions (batching, acknowledging, dead-lettering, bisecting, backing off) with
 * the primary's SubmitJobEvents replaced by a scripted function. The same paths against the real
 * primary are in test/integration/secondary/.
 */
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import type { JobEvent } from '../../../protos/generated/quotient/v1/JobEvent';
import type { JobEventBatch } from '../../../protos/generated/quotient/v1/JobEventBatch';
import type { JobEventResult__Output } from '../../../protos/generated/quotient/v1/JobEventResult';
import type { JobEventResults__Output } from '../../../protos/generated/quotient/v1/JobEventResults';
import { commitEvent, jobIdOf } from '../../../secondary/outbox/job-events';
import { Outbox } from '../../../secondary/outbox/outbox';
import { OutboxSender } from '../../../secondary/outbox/sender';
import type { CallOptions } from '../../../secondary/primary-client/primary-client';
import { removeDir, silentLogger, tempDir } from '../../unit/secondary/helpers';

type Answer = (events: JobEvent[], call: CallOptions | undefined) => JobEventResults__Output | Error;

/** The primary's answer to an event it accepts: committed, or released for a release. */
const committed = (e: JobEvent): JobEventResult__Output =>
  e.release
    ? { jobId: jobIdOf(e), result: 'released', released: { jobId: jobIdOf(e) } }
    : { jobId: jobIdOf(e), result: 'committed', committed: { jobId: jobIdOf(e), cost: 10 } };
const failed = (e: JobEvent, code: status, message = 'no'): JobEventResult__Output => ({
  jobId: jobIdOf(e),
  result: 'error',
  error: { code, quotientCode: 'X', message },
});
const grpcError = (code: status): Error => Object.assign(new Error(status[code]), { code, details: status[code] });

describe('OutboxSender', () => {
  let dir: string;
  let outbox: Outbox;
  let sender: OutboxSender | undefined;
  let calls: string[][];
  let answer: Answer;

  const client = {
    submitJobEvents(batch: JobEventBatch, call?: CallOptions): Promise<JobEventResults__Output> {
      const events = batch.events ?? [];
      calls.push(events.map(jobIdOf));
      const a = answer(events, call);
      return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
    },
  };

  const start = (opts: Partial<ConstructorParameters<typeof OutboxSender>[0]> = {}): OutboxSender => {
    sender = new OutboxSender({ outbox, client, logger: silentLogger, backoff: { baseMs: 1, maxMs: 5 }, eventBackoff: { baseMs: 1, maxMs: 2 }, ...opts });
    sender.start();
    return sender;
  };

  const enqueue = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) await outbox.enqueue(commitEvent(`job-${i}`, 1));
  };

  /** Waits until the outbox holds no event the sender could still deliver. */
  const drained = async (): Promise<void> => {
    while (outbox.depth() > 0) await sender!.nextIdle();
  };

  beforeEach(() => {
    dir = tempDir();
    outbox = Outbox.open({ dataDir: dir, logger: silentLogger, minFreeBytes: 0 });
    calls = [];
    answer = (events) => ({ results: events.map(committed) });
  });

  afterEach(async () => {
    await sender?.stop();
    sender = undefined;
    outbox.close();
    removeDir(dir);
  });

  it('sends waiting events in batches of batchSize, oldest first, and acknowledges what the primary answered', async () => {
    await enqueue(5);
    start({ batchSize: 2 });
    await drained();
    assert.deepEqual(calls, [['job-0', 'job-1'], ['job-2', 'job-3'], ['job-4']]);
    assert.equal(sender!.stats.delivered, 5);
  });

  it('wakes at once when an event is enqueued', async () => {
    start();
    await sender!.whenIdle();
    const idle = sender!.nextIdle();
    await outbox.enqueue(commitEvent('late', 2));
    await idle;
    assert.deepEqual(calls, [['late']]);
    assert.equal(outbox.depth(), 0);
  });

  it('dead-letters events the primary refuses as wrong (INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION), once, and releases their jobs instead', async () => {
    await enqueue(4);
    answer = (events) => ({
      results: events.map((e, i) =>
        e.release
          ? committed(e)
          : i === 1
            ? failed(e, status.NOT_FOUND, 'print job not found')
            : i === 2
              ? failed(e, status.FAILED_PRECONDITION)
              : i === 3
                ? failed(e, status.INVALID_ARGUMENT)
                : committed(e),
      ),
    });
    start();
    await drained();
    // The refused commits are never retried; a release of each job takes its place, so nothing stays held.
    assert.deepEqual(calls, [
      ['job-0', 'job-1', 'job-2', 'job-3'],
      ['job-1', 'job-2', 'job-3'],
    ]);
    assert.deepEqual(
      outbox.deadLetters().map((d) => [d.key, d.reason]),
      [
        ['job:job-1', 'NOT_FOUND: X: print job not found'],
        ['job:job-2', 'FAILED_PRECONDITION: X: no'],
        ['job:job-3', 'INVALID_ARGUMENT: X: no'],
      ],
    );
    assert.equal(sender!.stats.delivered, 4);
    assert.match(outbox.lastDeadLetter(), /^job:job-3: INVALID_ARGUMENT: X: no$/);
  });

  it('keeps retrying through an outage (UNAVAILABLE) with the same events, then delivers each once', async () => {
    await enqueue(3);
    let down = 4;
    answer = (events) => (down-- > 0 ? grpcError(status.UNAVAILABLE) : { results: events.map(committed) });
    start();
    await drained();
    assert.equal(calls.length, 5);
    for (const c of calls) assert.deepEqual(c, ['job-0', 'job-1', 'job-2'], 'a replay sends the same job ids');
    assert.equal(sender!.stats.failedCalls, 4);
    assert.equal(outbox.deadLetterCount(), 0);
  });

  it('retries an event that failed alone with a transient error, counting its attempts', async () => {
    await enqueue(2);
    let busy = 2;
    answer = (events) => ({ results: events.map((e) => (jobIdOf(e) === 'job-1' && busy-- > 0 ? failed(e, status.UNAVAILABLE) : committed(e))) });
    start();
    await drained();
    assert.deepEqual(calls, [['job-0', 'job-1'], ['job-1'], ['job-1']]);
    assert.equal(outbox.deadLetterCount(), 0);
  });

  it('dead-letters an event failing with an unexpected error after maxEventAttempts', async () => {
    await enqueue(1);
    answer = (events) => ({ results: events.map((e) => (e.release ? committed(e) : failed(e, status.INTERNAL, 'boom'))) });
    start({ maxEventAttempts: 3 });
    await drained();
    assert.equal(calls.length, 4, 'three attempts, then the release');
    assert.deepEqual(
      outbox.deadLetters().map((d) => [d.attempts, d.reason]),
      [[3, 'INTERNAL: X: boom']],
    );
  });

  it('finds the one event that makes the primary refuse a whole batch, dead-letters it, and delivers the rest', async () => {
    await enqueue(8);
    answer = (events) => (events.some((e) => e.commit && jobIdOf(e) === 'job-5') ? grpcError(status.INVALID_ARGUMENT) : { results: events.map(committed) });
    start({ batchSize: 8 });
    await drained();
    assert.deepEqual(
      outbox.deadLetters().map((d) => d.key),
      ['job:job-5'],
    );
    assert.equal(sender!.stats.delivered, 8, 'the other 7 commits, and the release of job-5');
    assert.ok(calls.length <= 11, `bisecting took ${calls.length} calls`);
  });

  it('waits out a whole call refused for this secondary (PERMISSION_DENIED) instead of dead-lettering its events', async () => {
    await enqueue(3);
    let refused = 3;
    answer = (events) => (refused-- > 0 ? grpcError(status.PERMISSION_DENIED) : { results: events.map(committed) });
    start();
    await drained();
    assert.equal(outbox.deadLetterCount(), 0);
    assert.equal(sender!.stats.delivered, 3);
    assert.deepEqual(calls.at(-1), ['job-0', 'job-1', 'job-2']);
  });

  it('does not acknowledge a batch answered with the wrong number of results', async () => {
    await enqueue(2);
    let bad = 1;
    answer = (events) => (bad-- > 0 ? { results: events.slice(1).map(committed) } : { results: events.map(committed) });
    start();
    await drained();
    assert.deepEqual(calls, [
      ['job-0', 'job-1'],
      ['job-0', 'job-1'],
    ]);
  });

  it('stops cleanly: cancels the call in flight and keeps its events for the next run', async () => {
    await enqueue(2);
    let cancelled = false;
    let started!: () => void;
    const inFlight = new Promise<void>((resolve) => (started = resolve));
    const hanging = {
      submitJobEvents(batch: JobEventBatch, call?: CallOptions): Promise<JobEventResults__Output> {
        calls.push((batch.events ?? []).map(jobIdOf));
        started();
        return new Promise((_resolve, reject) =>
          call?.signal?.addEventListener('abort', () => {
            cancelled = true;
            reject(grpcError(status.CANCELLED));
          }),
        );
      },
    };
    start({ client: hanging });
    await inFlight;
    await sender!.stop();
    assert.equal(cancelled, true);
    assert.equal(outbox.depth(), 2);
    await sender!.stop(); // idempotent
  });
});
