import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LogTailer, type TailChunk } from '../../../secondary/proxy/log-tailer';

const linesOf = (chunks: TailChunk[]): string[] => chunks.flatMap((c) => c.lines);

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

  it('starts again at 0 when the file was truncated (copytruncate)', () => {
    fs.writeFileSync(file, 'old line 1\nold line 2\n');
    const t = new LogTailer(file);
    assert.equal(linesOf(t.poll()).length, 2);
    fs.truncateSync(file, 0);
    fs.appendFileSync(file, 'new\n');
    assert.deepEqual(linesOf(t.poll()), ['new']);
    t.close();
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
