/**
 * Sums parsed Squid lines per (user, destination domain) until the interval ends; `drain()`
 * hands the sums over as wire UsageLines and starts afresh. Counts what it did not charge
 * (unauthenticated and bad lines) so they show in the status and the log, never silently.
 *
 * A sum is closed and a new one begun for the same user and domain (two lines in the report,
 * which the primary adds up) before it would break one of the primary's per-line rules
 * (primary/internet/internet-charging.ts, checkReport), which would make it refuse the whole
 * report:
 *  - a byte count above MAX_BYTES_PER_SUM (2^50; one line is at most 2^40, so 1,024 maximal
 *    lines of one user and domain in one interval would pass it);
 *  - first-to-last seen wider than MAX_SUM_SPAN_MS. The primary refuses more than a day, which
 *    a secondary catching up on a log after a long stop, or one line with a wrong clock, would
 *    reach. A minute is used, not a day: time-period charging charges every period between first
 *    and last seen, and a sum no wider than a minute touches only periods (whole minutes,
 *    aligned) in which there was activity.
 */
import type { UsageLine } from '../../protos/generated/quotient/v1/UsageLine';
import type { ParsedLine, UsageRecord } from './squid-log-parser';

/** The primary's limit on each byte count of a usage line. */
export const MAX_BYTES_PER_SUM = 2 ** 50;
export const MAX_SUM_SPAN_MS = 60_000;

export interface AggregateCounts {
  lines: number;
  usage: number;
  anonymous: number;
  denied: number;
  bad: number;
}

interface Sum {
  username: string;
  domain: string;
  bytesIn: number;
  bytesOut: number;
  cacheHitBytes: number;
  requests: number;
  firstSeenMs: number;
  lastSeenMs: number;
}

export class UsageAggregator {
  /** user → domain → the open sum (two lookups are cheaper than a joined key string per line). */
  private sums = new Map<string, Map<string, Sum>>();
  private open = 0;
  /** Sums closed early (see the header), waiting for the drain. */
  private closed: Sum[] = [];
  readonly counts: AggregateCounts = { lines: 0, usage: 0, anonymous: 0, denied: 0, bad: 0 };
  /** Bad lines since the last drain, with the first few reasons (for one log line per interval). */
  private badSamples: string[] = [];

  add(parsed: ParsedLine, raw?: string): void {
    this.counts.lines++;
    if (parsed.kind === 'usage') {
      this.counts.usage++;
      this.addUsage(parsed);
    } else if (parsed.kind === 'anonymous') {
      this.counts.anonymous++;
    } else if (parsed.kind === 'denied') {
      this.counts.denied++;
    } else {
      this.counts.bad++;
      if (this.badSamples.length < 5) this.badSamples.push(`${parsed.reason}: ${JSON.stringify((raw ?? '').slice(0, 200))}`);
    }
  }

  addUsage(r: UsageRecord): void {
    let byDomain = this.sums.get(r.username);
    if (!byDomain) {
      byDomain = new Map();
      this.sums.set(r.username, byDomain);
    }
    let s = byDomain.get(r.domain);
    if (s && !fits(s, r)) {
      this.closed.push(s);
      s = undefined;
      this.open--;
    }
    if (!s) {
      s = { username: r.username, domain: r.domain, bytesIn: 0, bytesOut: 0, cacheHitBytes: 0, requests: 0, firstSeenMs: r.timeMs, lastSeenMs: r.timeMs };
      byDomain.set(r.domain, s);
      this.open++;
    }
    if (r.cacheHit) s.cacheHitBytes += r.bytesIn;
    else s.bytesIn += r.bytesIn;
    s.bytesOut += r.bytesOut;
    s.requests++;
    if (r.timeMs < s.firstSeenMs) s.firstSeenMs = r.timeMs;
    if (r.timeMs > s.lastSeenMs) s.lastSeenMs = r.timeMs;
  }

  /** The number of lines the next drain gives. */
  get size(): number {
    return this.open + this.closed.length;
  }

  /** The sums so far as wire lines, and the bad-line samples; resets both. */
  drain(): { lines: UsageLine[]; badSamples: string[] } {
    const lines: UsageLine[] = [];
    const all = [...this.closed];
    for (const byDomain of this.sums.values()) for (const s of byDomain.values()) all.push(s);
    for (const s of all) {
      lines.push({
        username: s.username,
        domain: s.domain,
        bytesIn: s.bytesIn,
        bytesOut: s.bytesOut,
        cacheHitBytes: s.cacheHitBytes,
        requests: s.requests,
        firstSeenMs: s.firstSeenMs,
        lastSeenMs: s.lastSeenMs,
      });
    }
    const badSamples = this.badSamples;
    this.sums = new Map();
    this.open = 0;
    this.closed = [];
    this.badSamples = [];
    return { lines, badSamples };
  }
}

/** Whether `r` can join `s` without breaking a per-line rule of the primary. */
function fits(s: Sum, r: UsageRecord): boolean {
  const bytes = r.cacheHit ? s.cacheHitBytes : s.bytesIn;
  if (bytes + r.bytesIn > MAX_BYTES_PER_SUM || s.bytesOut + r.bytesOut > MAX_BYTES_PER_SUM) return false;
  return Math.max(s.lastSeenMs, r.timeMs) - Math.min(s.firstSeenMs, r.timeMs) <= MAX_SUM_SPAN_MS;
}
