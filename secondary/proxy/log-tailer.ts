/**
 * Reads Squid's access.log from a saved position onwards, across rotation and restarts.
 *
 * The position is (inode, byte offset of the end of the last complete line consumed). Each
 * `poll()` reads what was appended since, up to the last newline (a half-written line waits for
 * the next poll). Rotation:
 *  - rename (`squid -k rotate`, logrotate): the path now names a new inode. The old file stays
 *    open, so its tail is read to the end first, then reading starts at 0 of the new file. After
 *    a restart the old file is found again by inode among `<path>.0`, `<path>.1`, `<path>-*`
 *    beside it, so lines written between the last save and the rotation are not lost.
 *  - truncation (copytruncate): the file is shorter than the saved offset; reading restarts at 0.
 *    (Lines appended after the last poll and before the truncation are lost: copytruncate itself
 *    loses them for every reader; use rename rotation, Squid's default.)
 *
 * The tailer never saves its position itself: `poll()` returns lines with the position after
 * them, and the caller stores that position in the same transaction as the usage they became
 * (usage-pipeline.ts), which makes consumption exactly-once.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface TailPosition {
  /** Inode of the file the offset is in (as a decimal string: inodes may exceed 2^53). */
  inode: string;
  offset: number;
}

export interface TailChunk {
  lines: string[];
  /** Where the first line began (file and offset), for report ids. */
  from: TailPosition;
  /** The position after the last line. */
  to: TailPosition;
}

const READ_BYTES = 4 * 1024 * 1024;

interface Open {
  fd: number;
  inode: string;
}

export class LogTailer {
  private current: Open | undefined;
  private position: TailPosition | undefined;

  constructor(
    readonly file: string,
    saved?: TailPosition,
  ) {
    this.position = saved;
  }

  get at(): TailPosition | undefined {
    return this.position;
  }

  /** Everything complete since the last poll, in file order; an empty list when nothing new. */
  poll(): TailChunk[] {
    const chunks: TailChunk[] = [];
    for (let guard = 0; guard < 1000; guard++) {
      const chunk = this.step();
      if (chunk === 'idle') break;
      if (chunk !== 'moved') chunks.push(chunk);
    }
    return chunks;
  }

  /** Goes back to `position` (the last one saved): the next poll reads from there again. */
  rewind(position: TailPosition | undefined): void {
    this.close();
    this.position = position;
  }

  close(): void {
    if (this.current) fs.closeSync(this.current.fd);
    this.current = undefined;
  }

  /** One read: a chunk, 'moved' (switched file or offset), or 'idle' (nothing to do). */
  private step(): TailChunk | 'moved' | 'idle' {
    const live = statOrUndefined(this.file);
    if (!this.current) {
      if (this.position && (!live || inodeOf(live) !== this.position.inode)) {
        // Restarted after a rotation: finish the rotated file first, when it is still there.
        const old = this.findByInode(this.position.inode);
        if (old) {
          this.current = { fd: fs.openSync(old, 'r'), inode: this.position.inode };
          return 'moved';
        }
        // Gone: start the live file from its beginning.
        this.position = undefined;
      }
      if (!live) return 'idle';
      this.current = { fd: fs.openSync(this.file, 'r'), inode: inodeOf(live) };
      if (!this.position || this.position.inode !== this.current.inode) this.position = { inode: this.current.inode, offset: 0 };
      return 'moved';
    }
    const pos = this.position ?? { inode: this.current.inode, offset: 0 };
    const size = fs.fstatSync(this.current.fd).size;
    if (size < pos.offset) {
      this.position = { inode: this.current.inode, offset: 0 }; // truncated
      return 'moved';
    }
    if (size > pos.offset) {
      const chunk = this.readFrom(pos, size);
      if (chunk) return chunk;
    }
    // At the end of this file: move on when the path names another file now.
    if (live && inodeOf(live) !== this.current.inode) {
      fs.closeSync(this.current.fd);
      this.current = { fd: fs.openSync(this.file, 'r'), inode: inodeOf(live) };
      this.position = { inode: this.current.inode, offset: 0 };
      return 'moved';
    }
    return 'idle';
  }

  private readFrom(pos: TailPosition, size: number): TailChunk | undefined {
    const current = this.current as Open;
    const length = Math.min(READ_BYTES, size - pos.offset);
    const buf = Buffer.allocUnsafe(length);
    const n = fs.readSync(current.fd, buf, 0, length, pos.offset);
    const end = buf.lastIndexOf(10, n - 1);
    if (end === -1) {
      // No complete line. A line longer than a whole read is garbage: skip it to its end.
      if (n === READ_BYTES) {
        this.position = { inode: current.inode, offset: pos.offset + n };
        return { lines: [buf.toString('latin1', 0, 200)], from: pos, to: this.position };
      }
      return undefined;
    }
    const text = buf.toString('utf8', 0, end);
    const lines = text.length === 0 ? [''] : text.split('\n');
    this.position = { inode: current.inode, offset: pos.offset + end + 1 };
    return { lines, from: pos, to: this.position };
  }

  private findByInode(inode: string): string | undefined {
    const dir = path.dirname(this.file);
    const base = path.basename(this.file);
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return undefined;
    }
    for (const name of names) {
      if (name === base || !name.startsWith(base)) continue;
      const full = path.join(dir, name);
      const st = statOrUndefined(full);
      if (st && inodeOf(st) === inode) return full;
    }
    return undefined;
  }
}

function statOrUndefined(file: string): fs.BigIntStats | undefined {
  try {
    return fs.statSync(file, { bigint: true });
  } catch {
    return undefined;
  }
}

function inodeOf(st: fs.BigIntStats): string {
  return `${st.dev}:${st.ino}`;
}
