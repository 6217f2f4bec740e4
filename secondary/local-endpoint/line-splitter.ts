/**
 * Splits a byte stream into newline-terminated lines with a bound on line length, so a client
 * that never sends a newline cannot make the daemon buffer without limit. An oversized line is
 * reported once and skipped up to its newline; the lines after it are served normally.
 */
export type SplitItem = { line: string } | { tooLong: true };

export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  /** Inside an oversized line: drop bytes until its newline. */
  private discarding = false;

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer): SplitItem[] {
    const out: SplitItem[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl === -1 ? chunk.length : nl;
      const piece = chunk.subarray(start, end);
      if (!this.discarding) {
        if (this.size + piece.length > this.maxBytes) {
          out.push({ tooLong: true });
          this.discarding = true;
          this.parts = [];
          this.size = 0;
        } else if (piece.length > 0) {
          this.parts.push(piece);
          this.size += piece.length;
        }
      }
      if (nl === -1) break;
      if (!this.discarding) {
        let line = Buffer.concat(this.parts, this.size).toString('utf8');
        if (line.endsWith('\r')) line = line.slice(0, -1);
        out.push({ line });
      }
      this.discarding = false;
      this.parts = [];
      this.size = 0;
      start = nl + 1;
    }
    // Copy what is kept: the chunk's buffer may be reused by the stream.
    if (this.parts.length > 0) this.parts = [Buffer.concat(this.parts, this.size)];
    return out;
  }

  /** Bytes held for an unfinished line. */
  get pending(): number {
    return this.size;
  }
}
