import assert from 'node:assert/strict';
import { GroupCommitter } from '../../../primary/printing/group-commit';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A committer that records the batches it flushed and answers each item doubled. */
function recording(maxBatch?: number, maxWaitMs?: number): { committer: GroupCommitter<number, number>; batches: number[][] } {
  const batches: number[][] = [];
  const committer = new GroupCommitter<number, number>(
    (items) => {
      batches.push(items);
      return Promise.resolve(items.map((i) => i * 2));
    },
    maxBatch,
    maxWaitMs,
  );
  return { committer, batches };
}

describe('GroupCommitter', () => {
  it('flushes a lone call within two turns of the loop, alone', async () => {
    const { committer, batches } = recording();
    const answer = committer.submit(21);
    await nextTurn();
    await nextTurn();
    assert.deepEqual(batches, [[21]]);
    assert.equal(await answer, 42);
  });

  it('writes calls made in the same turn together and answers each its own result', async () => {
    const { committer, batches } = recording();
    const answers = await Promise.all([1, 2, 3].map((i) => committer.submit(i)));
    assert.deepEqual(answers, [2, 4, 6]);
    assert.deepEqual(batches, [[1, 2, 3]]);
  });

  it('keeps waiting while a stream adds one item per turn, so the stream fills one group', async () => {
    const { committer, batches } = recording(2000, 1000);
    const answers: Promise<number>[] = [];
    for (let i = 0; i < 10; i++) {
      answers.push(committer.submit(i));
      await nextTurn();
    }
    await Promise.all(answers);
    assert.deepEqual(batches, [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]);
  });

  it('gathers what a stream sends during a commit and after it into one group, rather than flushing it at once', async () => {
    const batches: number[][] = [];
    let finishFirst: () => void = () => undefined;
    const committer = new GroupCommitter<number, number>(
      (items) => {
        batches.push(items);
        if (batches.length > 1) return Promise.resolve(items);
        return new Promise<number[]>((resolve) => {
          finishFirst = () => resolve(items);
        });
      },
      2000,
      1000,
    );
    const answers = [committer.submit(0)];
    await nextTurn();
    await nextTurn();
    assert.deepEqual(batches, [[0]]);
    // One item per turn, as a stream's messages arrive; the first commit ends halfway through.
    for (let i = 1; i <= 6; i++) {
      answers.push(committer.submit(i));
      if (i === 3) finishFirst();
      await nextTurn();
    }
    assert.deepEqual(await Promise.all(answers), [0, 1, 2, 3, 4, 5, 6]);
    assert.deepEqual(batches, [[0], [1, 2, 3, 4, 5, 6]]);
  });

  it('stops waiting after maxWaitMs even while the queue still grows', async () => {
    const { committer, batches } = recording(2000, 0);
    const answers = [committer.submit(1)];
    await nextTurn();
    answers.push(committer.submit(2));
    await Promise.all(answers);
    assert.deepEqual(batches, [[1], [2]]);
  });

  it('splits a long queue into batches of at most maxBatch', async () => {
    const { committer, batches } = recording(4);
    await Promise.all(Array.from({ length: 10 }, (_, i) => committer.submit(i)));
    assert.deepEqual(
      batches.map((b) => b.length),
      [4, 4, 2],
    );
  });

  it('fails every item of a batch whose flush throws, and goes on with the next batch', async () => {
    let calls = 0;
    const committer = new GroupCommitter<number, number>((items) => {
      calls++;
      return calls === 1 ? Promise.reject(new Error('disk I/O error')) : Promise.resolve(items);
    });
    const first = await Promise.allSettled([committer.submit(1), committer.submit(2)]);
    assert.deepEqual(
      first.map((r) => r.status),
      ['rejected', 'rejected'],
    );
    assert.equal(await committer.submit(3), 3);
  });
});
