/**
 * A progress bar for long CLI operations (user imports, exports):
 *   [#####-----] 4,500/10,000 45% 1,230/s
 * redrawn in place on a terminal at most ~10 times a second. When the stream is not a terminal
 * (a log file, a pipe, cron) nothing is drawn while running and finish() writes one summary line,
 * so logs get the outcome without hundreds of carriage-return frames.
 */

/** The part of a stream the bar needs: process.stderr fits, and so does a fake in tests. */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(chunk: string): unknown;
}

export interface ProgressOptions {
  /** Where to draw; defaults to process.stderr (stdout stays clean for results). */
  stream?: ProgressStream;
  /** Cells in the bar itself. */
  width?: number;
  /** Shortest time between two redraws. */
  minIntervalMs?: number;
  now?: () => number;
}

/** 1234567 -> "1,234,567" (no locale lookup, so output is the same everywhere). */
export function groupDigits(n: number): string {
  const sign = n < 0 ? '-' : '';
  return sign + String(Math.floor(Math.abs(n))).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** One frame, e.g. formatProgress(4500, 10000, 1230, 10) === "[####------] 4,500/10,000 45% 1,230/s". */
export function formatProgress(done: number, total: number, ratePerSecond: number, width = 20): string {
  const fraction = total > 0 ? Math.min(Math.max(done / total, 0), 1) : 1;
  const filled = Math.floor(fraction * width);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
  return `${bar} ${groupDigits(done)}/${groupDigits(total)} ${Math.floor(fraction * 100)}% ${groupDigits(Math.round(ratePerSecond))}/s`;
}

export class ProgressBar {
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly width: number;
  private readonly minIntervalMs: number;
  private readonly now: () => number;
  private readonly startedAt: number;
  private done = 0;
  private total: number;
  private lastDrawAt = Number.NEGATIVE_INFINITY;
  private lastFrame = '';
  private finished = false;

  constructor(total: number, opts: ProgressOptions = {}) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = this.stream.isTTY === true;
    this.minIntervalMs = opts.minIntervalMs ?? 100;
    this.now = opts.now ?? Date.now;
    this.total = total;
    // Leave room for the counters after the bar on a narrow terminal.
    const room = (this.stream.columns || 80) - 40; // 0 columns: a pseudo-terminal that does not say
    this.width = Math.max(5, Math.min(opts.width ?? 20, room));
    this.startedAt = this.now();
  }

  /** Records progress; redraws on a terminal unless the last frame is under minIntervalMs old. */
  update(done: number, total: number = this.total): void {
    if (this.finished) return;
    this.done = done;
    this.total = total;
    if (!this.tty) return;
    const now = this.now();
    if (now - this.lastDrawAt < this.minIntervalMs) return;
    this.draw(now);
  }

  /** Draws the final state and ends the line (terminal), or writes one summary line (not a terminal). Idempotent. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    const now = this.now();
    if (this.tty) {
      this.draw(now);
      this.stream.write('\n');
      return;
    }
    const seconds = (now - this.startedAt) / 1000;
    this.stream.write(`${formatProgress(this.done, this.total, this.rate(now), this.width)} in ${seconds.toFixed(1)}s\n`);
  }

  private rate(now: number): number {
    const seconds = (now - this.startedAt) / 1000;
    return seconds > 0 ? this.done / seconds : 0;
  }

  private draw(now: number): void {
    const frame = formatProgress(this.done, this.total, this.rate(now), this.width);
    this.lastDrawAt = now;
    if (frame === this.lastFrame) return;
    // Pad over the tail of a longer previous frame instead of relying on ANSI erase support.
    const pad = ' '.repeat(Math.max(0, this.lastFrame.length - frame.length));
    this.stream.write(`\r${frame}${pad}`);
    this.lastFrame = frame;
  }
}
