/**
 * Bounded input for page analysis: random access to a Buffer or a file (read in pieces, never
 * whole), a sequential byte reader over it, and the time budget every analyser polls, so a
 * hostile document can cost neither unbounded memory nor unbounded time.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** Thrown when the time budget runs out; analyseDocument() turns it into the size fallback. */
export class BudgetExceeded extends Error {
  constructor() {
    super('page analysis time budget exceeded');
  }
}

/** Thrown by a parser that cannot make sense of its input. */
export class MalformedDocument extends Error {}

/** A deadline polled by the analysers (Date.now() is cheap enough to call every few thousand steps). */
export class Budget {
  private readonly deadline: number;
  private ticks = 0;
  constructor(ms: number) {
    this.deadline = Date.now() + ms;
  }
  /** Call in loops: checks the clock every 4096 calls. */
  tick(): void {
    if ((++this.ticks & 4095) === 0) this.check();
  }
  check(): void {
    if (Date.now() > this.deadline) throw new BudgetExceeded();
  }
}

/** Random access to the document's bytes. `read` returns fewer bytes at the end. */
export interface Source {
  readonly size: number;
  read(pos: number, len: number): Buffer;
  close(): void;
}

export function bufferSource(buf: Buffer): Source {
  return {
    size: buf.length,
    read: (pos, len) => buf.subarray(Math.max(0, pos), Math.max(0, Math.min(buf.length, pos + len))),
    close: () => undefined,
  };
}

export function fileSource(path: string): Source {
  const fd = openSync(path, 'r');
  let size: number;
  try {
    const st = fstatSync(fd);
    // A pipe or device reports size 0 and may block: an empty "file" must not print for free.
    if (!st.isFile()) throw new Error(`${path} is not a regular file (spool a pipe to a file first)`);
    size = st.size;
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  let closed = false;
  return {
    size,
    read: (pos, len) => {
      const start = Math.max(0, pos);
      const n = Math.max(0, Math.min(len, size - start));
      const out = Buffer.allocUnsafe(n);
      let got = 0;
      while (got < n) {
        const r = readSync(fd, out, got, n - got, start + got);
        if (r === 0) break;
        got += r;
      }
      return out.subarray(0, got);
    },
    close: () => {
      if (!closed) {
        closed = true;
        closeSync(fd);
      }
    },
  };
}

const CHUNK = 1 << 20;

/** Sequential reader over the first `limit` bytes of a source, one chunk in memory at a time. */
export class SeqReader {
  buf: Buffer = Buffer.alloc(0);
  /** File offset of buf[0]. */
  base = 0;
  /** Index into buf. */
  i = 0;
  constructor(
    private readonly src: Source,
    readonly limit: number,
    start = 0,
  ) {
    this.base = start;
  }
  get pos(): number {
    return this.base + this.i;
  }
  /** Loads the next chunk; false at the end. */
  fill(): boolean {
    const pos = this.pos;
    if (pos >= this.limit) return false;
    this.buf = this.src.read(pos, Math.min(CHUNK, this.limit - pos));
    this.base = pos;
    this.i = 0;
    return this.buf.length > 0;
  }
  /** The next byte, or -1 at the end. */
  next(): number {
    if (this.i >= this.buf.length && !this.fill()) return -1;
    return this.buf[this.i++] ?? -1;
  }
  peek(): number {
    if (this.i >= this.buf.length && !this.fill()) return -1;
    return this.buf[this.i] ?? -1;
  }
  /** Skips n bytes; false when that passes the end. */
  skip(n: number): boolean {
    const target = this.pos + n;
    if (target > this.limit) {
      this.base = this.limit;
      this.i = 0;
      this.buf = Buffer.alloc(0);
      return false;
    }
    if (target <= this.base + this.buf.length) {
      this.i = target - this.base;
    } else {
      this.base = target;
      this.i = 0;
      this.buf = Buffer.alloc(0);
    }
    return true;
  }
  /** Exactly n bytes, or null at the end. */
  bytes(n: number): Buffer | null {
    if (this.pos + n > this.limit) return null;
    if (this.i + n <= this.buf.length) {
      const out = this.buf.subarray(this.i, this.i + n);
      this.i += n;
      return out;
    }
    const out = this.src.read(this.pos, n);
    if (out.length < n) return null;
    this.skip(n);
    return out;
  }
}
