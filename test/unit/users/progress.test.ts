/**
 * The CLI progress bar (common/progress.ts), drawn into a fake stream with a fake clock: the
 * frame format, throttling on a terminal, and one summary line when not on a terminal.
 */
import assert from 'node:assert/strict';
import { formatProgress, groupDigits, ProgressBar, type ProgressStream } from '../../../common/progress';

class FakeStream implements ProgressStream {
  readonly chunks: string[] = [];
  constructor(
    readonly isTTY: boolean,
    readonly columns = 120,
  ) {}
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return true;
  }
}

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('formatProgress()', () => {
  it('draws the bar, the counts with thousands separators, the percentage and the rate', () => {
    assert.equal(formatProgress(4500, 10000, 1230, 10), '[####------] 4,500/10,000 45% 1,230/s');
  });

  it('rounds the percentage and the filled cells down, so 100% means finished', () => {
    assert.equal(formatProgress(9999, 10000, 0, 10), '[#########-] 9,999/10,000 99% 0/s');
    assert.equal(formatProgress(10000, 10000, 812.6, 10), '[##########] 10,000/10,000 100% 813/s');
  });

  it('shows a total of zero as complete rather than dividing by it', () => {
    assert.equal(formatProgress(0, 0, 0, 4), '[####] 0/0 100% 0/s');
  });
});

describe('groupDigits()', () => {
  it('groups by thousands', () => {
    assert.deepEqual([0, 999, 1000, 1234567, -45000].map(groupDigits), ['0', '999', '1,000', '1,234,567', '-45,000']);
  });
});

describe('ProgressBar', () => {
  describe('on a terminal', () => {
    it('redraws in place at most once per interval, and always draws the final state', () => {
      const stream = new FakeStream(true);
      const c = clock();
      const bar = new ProgressBar(1000, { stream, now: c.now, width: 10 });
      c.advance(1000);
      bar.update(100); // first frame: drawn
      c.advance(50);
      bar.update(150); // 50 ms later: throttled
      c.advance(60);
      bar.update(200); // 110 ms after the first frame: drawn
      c.advance(10);
      bar.update(1000); // throttled, but finish() draws it
      bar.finish();
      assert.deepEqual(stream.chunks, [
        '\r[#---------] 100/1,000 10% 100/s',
        '\r[##--------] 200/1,000 20% 180/s',
        '\r[##########] 1,000/1,000 100% 893/s',
        '\n',
      ]);
    });

    it('pads over the tail of a longer previous frame', () => {
      const stream = new FakeStream(true);
      const c = clock();
      const bar = new ProgressBar(1000, { stream, now: c.now, width: 5 });
      c.advance(100);
      bar.update(100); // 1,000/s
      c.advance(9900);
      bar.update(150); // 15/s: three characters shorter
      assert.deepEqual(stream.chunks, ['\r[-----] 100/1,000 10% 1,000/s', '\r[-----] 150/1,000 15% 15/s   ']);
    });

    it('narrows the bar on a narrow terminal, and treats an unknown width as 80 columns', () => {
      const narrow = new FakeStream(true, 50);
      new ProgressBar(10, { stream: narrow, now: clock().now }).finish();
      assert.equal(narrow.chunks[0], '\r[----------] 0/10 0% 0/s');
      const unknown = new FakeStream(true, 0);
      new ProgressBar(10, { stream: unknown, now: clock().now }).finish();
      assert.equal(unknown.chunks[0], `\r[${'-'.repeat(20)}] 0/10 0% 0/s`);
    });

    it('does not write a frame identical to the last one', () => {
      const stream = new FakeStream(true);
      const c = clock();
      const bar = new ProgressBar(0, { stream, now: c.now, width: 5 });
      bar.update(0);
      c.advance(500);
      bar.update(0);
      bar.finish();
      assert.deepEqual(stream.chunks, ['\r[#####] 0/0 100% 0/s', '\n']);
    });

    it('finishes once, however often finish() is called, and ignores updates afterwards', () => {
      const stream = new FakeStream(true);
      const bar = new ProgressBar(2, { stream, now: clock().now });
      bar.finish();
      bar.finish();
      bar.update(2);
      assert.equal(stream.chunks.filter((c) => c === '\n').length, 1);
      assert.equal(stream.chunks.length, 2);
    });
  });

  describe('not on a terminal', () => {
    it('writes nothing while running and one summary line at the end', () => {
      const stream = new FakeStream(false);
      const c = clock();
      const bar = new ProgressBar(10000, { stream, now: c.now, width: 10 });
      for (let done = 1; done <= 10000; done += 1) {
        c.advance(1);
        bar.update(done);
      }
      assert.deepEqual(stream.chunks, []);
      bar.finish();
      assert.deepEqual(stream.chunks, ['[##########] 10,000/10,000 100% 1,000/s in 10.0s\n']);
    });

    it('summarises where it got to when finished early', () => {
      const stream = new FakeStream(false);
      const c = clock();
      const bar = new ProgressBar(200, { stream, now: c.now, width: 10 });
      c.advance(2000);
      bar.update(50);
      bar.finish();
      assert.deepEqual(stream.chunks, ['[##--------] 50/200 25% 25/s in 2.0s\n']);
    });
  });
});
