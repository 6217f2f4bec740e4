/**
 * Reads Squid's access.log from a saved position onwards, across rotation and restarts.
 *
 * The position is (inode, byte offset of the end of the last complete line consumed, generation,
 * fingerprint). Each `poll()` reads what was appended since, up to the last newline (a
 * half-written line waits for the next poll). Rotation:
 *  - rename (`squid -k rotate`, logrotate): the path now names a new inode. The old file stays
 *    open, so its tail is read to the end first, then reading starts at 0 of the new file. After
 *    a restart the old file is found again by inode among `<path>.0`, `<path>.1`, `<path>-*`
 *    beside it, so lines written between the last save and the rotation are not lost.
 *  - truncation (copytruncate): the file is shorter than the saved offset, or the bytes just
 *    before the saved offset are no longer the ones we read (the fingerprint: a hash of the last
 *    up-to-64 bytes consumed), which catches a file truncated and written again past the old size
 *    between two polls or while the secondary was stopped, and an inode number reused by a new
 *    file. Reading restarts at 0. (Lines appended after the last poll and before the truncation
 *    are lost: copytruncate itself loses them for every reader; use rename rotation, Squid's
 *    default.) A new file whose last 64 bytes before the old offset are byte for byte the old
 *    ones is not told apart; Squid's lines carry a millisecond time stamp, so that does not happen.
 *
 * The generation counts truncations and file switches. It is part of every position and of the
 * report ids made from it (usage-pipeline.ts), so the range 0-124 of a file after a truncation,
 * or of a new file that got an old inode number, never has the id of an earlier report (which
 * the primary would drop as a replay).
 *
 * The tailer never saves its position itself: `poll()` returns lines with the position after
 * them, and the caller stores that position in the same transaction as the usage they became
 * (usage-pipeline.ts), which makes consumption exactly-once.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface TailPosition {
  /** Inode of the file the offset is in (as a decimal string: inodes may exceed 2^53). */
  inode: string;
  offset: number;
  /** Truncations and file switches so far; only ever grows. */
  generation: number;
  /** Hash of the up-to-FINGERPRINT_BYTES bytes before `offset`; '' at offset 0 (and in positions saved before there was one). */
  fingerprint: string;
}

export interface TailChunk {
  lines: string[];
  /** Where the first line began (file, generation and offset), for report ids. */
  from: TailPosition;
  /** The position after the last line. */
  to: TailPosition;
}

const READ_BYTES = 4 * 1024 * 1024;
export const FINGERPRINT_BYTES = 64;

interface Open {
  fd: number;
  inode: string;
}

/** A position read back from disk, or undefined when it is not one; positions saved before generations existed are generation 0 without a fingerprint. */
export function toTailPosition(value: unknown): TailPosition | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Partial<Record<keyof TailPosition, unknown>>;
  if (typeof v.inode !== 'string' || !Number.isSafeInteger(v.offset) || (v.offset as number) < 0) return undefined;
  const generation = Number.isSafeInteger(v.generation) && (v.generation as number) >= 0 ? (v.generation as number) : 0;
  return { inode: v.inode, offset: v.offset as number, generation, fingerprint: typeof v.fingerprint === 'string' ? v.fingerprint : '' };
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

  /** Offset 0 of `inode`, one generation on from the current position. */
  private restart(inode: string): TailPosition {
    return { inode, offset: 0, generation: this.position ? this.position.generation + 1 : 0, fingerprint: '' };
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
        // Gone: the live file is read from its beginning, once there is one.
        if (!live) return 'idle';
        this.position = this.restart(inodeOf(live));
      }
      if (!live) return 'idle';
      this.current = { fd: fs.openSync(this.file, 'r'), inode: inodeOf(live) };
      if (!this.position) this.position = this.restart(this.current.inode);
      return 'moved';
    }
    const pos = this.position ?? this.restart(this.current.inode);
    const size = fs.fstatSync(this.current.fd).size;
    if (size < pos.offset || !this.sameBytesBefore(pos)) {
      this.position = this.restart(this.current.inode); // truncated (and maybe written again)
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
      this.position = this.restart(this.current.inode);
      return 'moved';
    }
    return 'idle';
  }

  /** Whether the bytes before the position are still the ones it was made from. */
  private sameBytesBefore(pos: TailPosition): boolean {
    if (pos.offset === 0 || pos.fingerprint === '') return true;
    return this.fingerprintAt(pos.offset) === pos.fingerprint;
  }

  private fingerprintAt(offset: number): string {
    const length = Math.min(FINGERPRINT_BYTES, offset);
    if (length === 0) return '';
    const buf = Buffer.alloc(length);
    const n = fs.readSync((this.current as Open).fd, buf, 0, length, offset - length);
    return crypto.createHash('sha256').update(buf.subarray(0, n)).digest('base64url').slice(0, 22);
  }

  private advance(pos: TailPosition, bytes: number): TailPosition {
    const offset = pos.offset + bytes;
    return { inode: pos.inode, offset, generation: pos.generation, fingerprint: this.fingerprintAt(offset) };
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
        this.position = this.advance(pos, n);
        return { lines: [buf.toString('latin1', 0, 200)], from: pos, to: this.position };
      }
      return undefined;
    }
    const text = buf.toString('utf8', 0, end);
    const lines = text.length === 0 ? [''] : text.split('\n');
    this.position = this.advance(pos, end + 1);
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
