/**
 * Timing for the bench: runs N operations with K in flight and turns the wall-clock time into
 * operations per second; compares implementations of the same operation in alternating rounds,
 * so that drift (WAL growth, checkpoints, buffer-pool warm-up, other work on the machine) falls
 * on all alike, and reports each at its median round's pace.
 */
import { performance } from 'node:perf_hooks';

/** One operation; `i` is unique per call across a whole side, so it can make unique keys. */
export type Op = (i: number) => unknown;

export interface Timing {
  ops: number;
  ms: number;
}

export function opsPerSecond(t: Timing): number {
  return t.ms > 0 ? (t.ops * 1000) / t.ms : Number.POSITIVE_INFINITY;
}

export function microsPerOp(t: Timing): number {
  return (t.ms * 1000) / t.ops;
}

/**
 * Runs op(first) … op(first + count - 1) with at most `concurrency` awaiting at once. A
 * synchronous op (better-sqlite3) simply runs back to back, whatever the concurrency.
 */
export async function runOps(op: Op, first: number, count: number, concurrency: number): Promise<Timing> {
  let next = first;
  const end = first + count;
  const worker = async (): Promise<void> => {
    while (next < end) {
      const i = next++;
      await op(i);
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return { ops: count, ms: performance.now() - start };
}

/**
 * One implementation under test. Keeps its next operation index, so keys never repeat across
 * rounds and warm-ups, and the timing of every recorded round.
 */
export class Side {
  private next = 0;
  private readonly rounds: Timing[] = [];

  constructor(
    readonly name: string,
    private readonly op: Op,
  ) {}

  async run(count: number, concurrency: number, record = true): Promise<void> {
    const t = await runOps(this.op, this.next, count, concurrency);
    this.next += count;
    if (record) this.rounds.push(t);
  }

  /**
   * The recorded operations at the median round's pace: a burst of other work on the machine
   * spoils a round or two, not the figure.
   */
  get result(): Timing {
    const ops = this.rounds.reduce((n, t) => n + t.ops, 0);
    const paces = this.rounds.map((t) => t.ms / t.ops).sort((a, b) => a - b);
    const mid = Math.floor(paces.length / 2);
    const median = paces.length % 2 === 1 ? (paces[mid] ?? 0) : ((paces[mid - 1] ?? 0) + (paces[mid] ?? 0)) / 2;
    return { ops, ms: median * ops };
  }

  /** How many times the op ran, warm-up included (each run writes ledger rows). */
  get calls(): number {
    return this.next;
  }
}

/**
 * Operations per round: small, so that the sides interleave finely and a burst of other work
 * lands on all of them; with K in flight, ten times K, so ramp-up and drain stay a small part.
 */
export function roundSize(concurrency: number): number {
  return Math.max(25, concurrency * 10);
}

/**
 * Measures every side on `ops` operations: an unrecorded warm-up of a tenth, then rounds of
 * roundSize() operations whose order rotates, so no side always goes first and each side's
 * rounds are spread over the whole measurement.
 */
export async function compare(sides: Side[], ops: number, concurrency: number): Promise<void> {
  const warmup = Math.max(1, Math.floor(ops / 10));
  for (const s of sides) await s.run(warmup, concurrency, false);
  const rounds = Math.max(1, Math.round(ops / roundSize(concurrency)));
  const perRound = Math.floor(ops / rounds);
  for (let r = 0; r < rounds; r++) {
    const count = r === rounds - 1 ? ops - perRound * (rounds - 1) : perRound;
    for (let k = 0; k < sides.length; k++) {
      const side = sides[(r + k) % sides.length];
      if (side) await side.run(count, concurrency);
    }
  }
}

/** A plain-text table with right-aligned numeric columns. */
export function table(headers: string[], rows: string[][], numeric: boolean[]): string {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, c) => (numeric[c] ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
