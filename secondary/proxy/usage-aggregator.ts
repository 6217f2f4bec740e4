/**
 * Sums parsed Squid lines per (user, destination domain) until the interval ends; `drain()`
 * hands the sums over as wire UsageLines and starts afresh. Counts what it did not charge
 * (unauthenticated and bad lines) so they show in the status and the log, never silently.
 */
import type { UsageLine } from '../../protos/generated/quotient/v1/UsageLine';
import type { ParsedLine, UsageRecord } from './squid-log-parser';

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
  private sums = new Map<string, Sum>();
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
    // \u0000 cannot occur in a decoded name of a valid line, so the key is unambiguous.
    const key = `${r.username}\u0000${r.domain}`;
    let s = this.sums.get(key);
    if (!s) {
      s = { username: r.username, domain: r.domain, bytesIn: 0, bytesOut: 0, cacheHitBytes: 0, requests: 0, firstSeenMs: r.timeMs, lastSeenMs: r.timeMs };
      this.sums.set(key, s);
    }
    if (r.cacheHit) s.cacheHitBytes += r.bytesIn;
    else s.bytesIn += r.bytesIn;
    s.bytesOut += r.bytesOut;
    s.requests++;
    if (r.timeMs < s.firstSeenMs) s.firstSeenMs = r.timeMs;
    if (r.timeMs > s.lastSeenMs) s.lastSeenMs = r.timeMs;
  }

  get size(): number {
    return this.sums.size;
  }

  /** The sums so far as wire lines, and the bad-line samples; resets both. */
  drain(): { lines: UsageLine[]; badSamples: string[] } {
    const lines: UsageLine[] = [];
    for (const s of this.sums.values()) {
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
    this.badSamples = [];
    return { lines, badSamples };
  }
}
