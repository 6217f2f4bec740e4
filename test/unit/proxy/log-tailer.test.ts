import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LogTailer, toTailPosition, type TailChunk, type TailPosition } from '../../../secondary/proxy/log-tailer';

const linesOf = (chunks: TailChunk[]): string[] => chunks.flatMap((c) => c.lines);
const inodeOf = (file: string): string => {
  const st = fs.statSync(file, { bigint: true });
  return `${st.dev}:${st.ino}`;
};
/** Reads everything there is, and returns the position a restart would get. */
const drainAndSave = (t: LogTailer): { lines: string[]; saved: TailPosition } => {
  const lines = linesOf(t.poll());
  t.close();
  assert.ok(t.at);
  return { lines, saved: t.at };
};

describe('LogTailer', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quotient-tail-'));
    file = path.join(dir, 'access.log');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads complete lines only, and the rest once its newline arrives', () => {
    fs.writeFileSync(file, 'a\nb\nhalf');
    const t = new LogTailer(file);
    assert.deepEqual(linesOf(t.poll()), ['a', 'b']);
    assert.deepEqual(linesOf(t.poll()), []);
    fs.appendFileSync(file, '-done\nc\n');
    assert.deepEqual(linesOf(t.poll()), ['half-done', 'c']);
    t.close();
  });

  it('finishes the renamed file, then reads the new one from its start (rotation by rename)', () => {
    fs.writeFileSync(file, '1\n');
    const t = new LogTailer(file);
    assert.deepEqual(linesOf(t.poll()), ['1']);
    fs.appendFileSync(file, '2\n');
    fs.renameSync(file, `${file}.0`);
    fs.writeFileSync(file, '3\n');
    assert.deepEqual(linesOf(t.poll()), ['2', '3']);
    t.close();
  });

  it('starts again at 0, one generation on, when the file was truncated (copytruncate)', () => {
    fs.writeFileSync(file, 'old line 1\nold line 2\n');
    const t = new LogTailer(file);
    assert.equal(linesOf(t.poll()).length, 2);
    fs.truncateSync(file, 0);
    fs.appendFileSync(file, 'new\n');
    const chunks = t.poll();
    assert.deepEqual(linesOf(chunks), ['new']);
    assert.deepEqual([chunks[0]?.from.generation, chunks[0]?.from.offset, chunks[0]?.to.offset], [1, 0, 4]);
    t.close();
  });

  it('notices a truncation when the file has grown back past the old size before the next poll', () => {
    fs.writeFileSync(file, 'old 1\nold 2\n'); // 12 bytes
    const t = new LogTailer(file);
    assert.deepEqual(linesOf(t.poll()), ['old 1', 'old 2']);
    fs.truncateSync(file, 0);
    fs.appendFileSync(file, 'new 1\nnew 2\nnew 3\n'); // 18 bytes: the size alone says "6 new bytes"
    const chunks = t.poll();
    assert.deepEqual(linesOf(chunks), ['new 1', 'new 2', 'new 3']);
    assert.deepEqual([chunks[0]?.from.generation, chunks[0]?.from.offset, chunks[0]?.to.offset], [1, 0, 18]);
    t.close();
  });

  it('notices a truncation when the file has grown back to exactly the old size', () => {
    fs.writeFileSync(file, 'old 1\nold 2\n');
    const t = new LogTailer(file);
    t.poll();
    fs.writeFileSync(file, 'new 1\nnew 2\n'); // O_TRUNC, same 12 bytes
    assert.deepEqual(linesOf(t.poll()), ['new 1', 'new 2']);
    assert.equal(t.at?.generation, 1);
    assert.deepEqual(linesOf(t.poll()), []);
    t.close();
  });

  it('after a restart, reads a file truncated and grown back past the old size while it was stopped', () => {
    fs.writeFileSync(file, 'old 1\nold 2\n');
    const first = drainAndSave(new LogTailer(file));
    assert.deepEqual(first.lines, ['old 1', 'old 2']);
    fs.truncateSync(file, 0);
    fs.appendFileSync(file, 'new 1\nnew 2\nnew 3\n');
    const second = drainAndSave(new LogTailer(file, first.saved));
    assert.deepEqual(second.lines, ['new 1', 'new 2', 'new 3']);
    assert.deepEqual([second.saved.inode, second.saved.offset, second.saved.generation], [first.saved.inode, 18, 1]);
    // And a restart after that reads nothing twice.
    const third = drainAndSave(new LogTailer(file, second.saved));
    assert.deepEqual(third.lines, []);
    assert.deepEqual(third.saved, second.saved);
  });

  it('after a restart, reads a file truncated to less than the old size while it was stopped', () => {
    fs.writeFileSync(file, 'old line 1\nold line 2\n');
    const first = drainAndSave(new LogTailer(file));
    fs.writeFileSync(file, 'new\n');
    const second = drainAndSave(new LogTailer(file, first.saved));
    assert.deepEqual(second.lines, ['new']);
    assert.equal(second.saved.generation, 1);
    assert.deepEqual(drainAndSave(new LogTailer(file, second.saved)).lines, []);
  });

  it('reads a new file from its start when it got the inode number of the saved one (inode reuse)', () => {
    fs.writeFileSync(file, 'old 1\nold 2\n');
    const first = drainAndSave(new LogTailer(file));
    // The old file is deleted and a new one created; the file system hands out the same inode
    // number again (made certain here by saving the position with the new file's inode).
    fs.rmSync(file);
    fs.writeFileSync(file, 'new 1\nnew 2\nnew 3\n');
    const reused: TailPosition = { ...first.saved, inode: inodeOf(file) };
    const second = drainAndSave(new LogTailer(file, reused));
    assert.deepEqual(second.lines, ['new 1', 'new 2', 'new 3']);
    assert.deepEqual([second.saved.generation, second.saved.offset], [1, 18]);
    assert.deepEqual(drainAndSave(new LogTailer(file, second.saved)).lines, [], 'and after another restart, nothing twice');
  });

  it('counts every file switch in the generation', () => {
    fs.writeFileSync(file, '1\n');
    const t = new LogTailer(file);
    t.poll();
    assert.equal(t.at?.generation, 0);
    fs.renameSync(file, `${file}.0`);
    fs.writeFileSync(file, '2\n');
    const [chunk] = t.poll();
    assert.deepEqual([chunk?.from.generation, chunk?.from.offset, chunk?.to.offset], [1, 0, 2]);
    t.close();
  });

  it('resumes a position saved before generations existed (generation 0, no fingerprint)', () => {
    fs.writeFileSync(file, 'a\nb\n');
    const saved = toTailPosition(JSON.parse(JSON.stringify({ inode: inodeOf(file), offset: 2 })));
    assert.deepEqual(saved, { inode: inodeOf(file), offset: 2, generation: 0, fingerprint: '' });
    const t = new LogTailer(file, saved);
    assert.deepEqual(linesOf(t.poll()), ['b']);
    t.close();
    assert.equal(toTailPosition({ inode: 5, offset: 1 }), undefined);
    assert.equal(toTailPosition(null), undefined);
  });

  it('after a restart, resumes at the saved position, even when the file was rotated meanwhile', () => {
    fs.writeFileSync(file, 'a\nb\n');
    const first = new LogTailer(file);
    first.poll();
    const saved = first.at;
    first.close();
    assert.ok(saved);
    // While stopped: more lines, a rotation, lines in the new file.
    fs.appendFileSync(file, 'c\n');
    fs.renameSync(file, `${file}.1`);
    fs.writeFileSync(file, 'd\n');
    const second = new LogTailer(file, saved);
    assert.deepEqual(linesOf(second.poll()), ['c', 'd']);
    const again = new LogTailer(file, second.at);
    assert.deepEqual(linesOf(again.poll()), []);
    second.close();
    again.close();
  });

  it('reports the byte range and inode each chunk came from', () => {
    fs.writeFileSync(file, 'xy\nz\n');
    const t = new LogTailer(file);
    const [chunk] = t.poll();
    assert.equal(chunk?.from.offset, 0);
    assert.equal(chunk?.to.offset, 5);
    assert.equal(chunk?.from.inode, chunk?.to.inode);
    t.close();
  });

  it('waits quietly while the file does not exist', () => {
    const t = new LogTailer(file);
    assert.deepEqual(t.poll(), []);
    fs.writeFileSync(file, 'late\n');
    assert.deepEqual(linesOf(t.poll()), ['late']);
    t.close();
  });
});
