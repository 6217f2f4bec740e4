/**
 * The proxy secondary's ingestion: Squid's log (a tailed access.log or the tcp:// feed) is
 * parsed and summed per user and domain, and every interval the sums become usage reports in
 * the durable outbox (kind usage.report), from which UsageReportSender delivers them.
 *
 * Exactly-once for the tailed file: the report is enqueued and the tail position after its
 * lines is saved with putMeta in the same turn of the event loop, and the outbox commits every
 * write of one turn in one SQLite transaction (outbox.ts, group commit): after a crash either
 * both are on disk (the lines are never read again) or neither is (they are read again and
 * become the same usage). The report id names the file, its generation (bumped by every
 * truncation and file switch, log-tailer.ts) and the byte range it came from
 * (`<secondary>:f:<inode>:<generation>:<from>-<to>`), so even a report rebuilt from the same range
 * is the same report to the primary, which charges a report id once, and the same range of a
 * truncated or new file is a different report. The tcp:// feed cannot be replayed:
 * its report ids are `<secondary>:t:<start time>:<n>`, and lines not yet enqueued when the
 * process dies are lost (documented). When the outbox cannot write (disk full), the tailer goes
 * back to the last saved position and the lines are read again once it can.
 */
import crypto from 'node:crypto';
import type { Logger } from '../../common/logger';
import type { UsageLine } from '../../protos/generated/quotient/v1/UsageLine';
import type { UsageReport } from '../../protos/generated/quotient/v1/UsageReport';
import type { Outbox } from '../outbox/outbox';
import { LogTailer, toTailPosition, type TailPosition } from './log-tailer';
import { parseSquidLine } from './squid-log-parser';
import { TcpLogReceiver } from './tcp-receiver';
import { UsageAggregator, type AggregateCounts } from './usage-aggregator';

export const TAIL_META_KEY = 'proxy.tail.position';
/** The wire limit of lines per report (internet.proto). */
export const MAX_REPORT_LINES = 10_000;
/** The primary's limit on a report id (checkReport in primary/internet/internet-charging.ts). */
export const MAX_REPORT_ID = 191;

/**
 * A report id the primary accepts: as it is when short enough, otherwise (a secondary name near
 * its 128 characters, with a long inode and offsets) its start and a hash of all of it, still one
 * id per range.
 */
export function fitReportId(id: string): string {
  if (id.length <= MAX_REPORT_ID) return id;
  return `${id.slice(0, 100)}:h:${crypto.createHash('sha256').update(id).digest('hex')}`;
}

export interface UsagePipelineOptions {
  name: string;
  outbox: Outbox;
  logger: Logger;
  /** access.log to tail, or undefined. */
  accessLog?: string | undefined;
  /** host:port for Squid's tcp:// feed, or undefined. */
  tcpListen?: string | undefined;
  /** The reporting interval, read at each tick (the primary may change it). */
  intervalMs: () => number;
  /** How often the file is polled between reports. */
  pollMs?: number;
  now?: () => number;
}

export class UsagePipeline {
  private readonly opts: UsagePipelineOptions;
  private readonly fileAgg = new UsageAggregator();
  private readonly tcpAgg = new UsageAggregator();
  private tailer: LogTailer | undefined;
  private receiver: TcpLogReceiver | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly startedAt: number;
  private tcpSeq = 0;
  private intervalStart: number;
  /** The file range summed in fileAgg and not yet enqueued. */
  private fileRange: { from: TailPosition; to: TailPosition } | undefined;
  /** The last position known to be on disk with the usage before it. */
  private persisted: TailPosition | undefined;
  private stopped = false;
  private flushing: Promise<void> = Promise.resolve();
  tcpPort: number | undefined;

  constructor(opts: UsagePipelineOptions) {
    this.opts = opts;
    this.startedAt = (opts.now ?? Date.now)();
    this.intervalStart = this.startedAt;
  }

  get counts(): { file: AggregateCounts; tcp: AggregateCounts } {
    return { file: this.fileAgg.counts, tcp: this.tcpAgg.counts };
  }

  async start(): Promise<void> {
    const { accessLog, tcpListen } = this.opts;
    if (accessLog) {
      const saved = this.opts.outbox.getMeta(TAIL_META_KEY);
      this.persisted = saved ? toTailPosition(JSON.parse(saved)) : undefined;
      this.tailer = new LogTailer(accessLog, this.persisted);
      this.pollTimer = setInterval(() => this.poll(), this.opts.pollMs ?? 250);
      this.poll();
    }
    if (tcpListen) {
      const colon = tcpListen.lastIndexOf(':');
      this.receiver = new TcpLogReceiver((line) => this.tcpAgg.add(parseSquidLine(line), line));
      this.tcpPort = await this.receiver.listen(tcpListen.slice(0, colon).replace(/^\[|\]$/g, ''), Number(tcpListen.slice(colon + 1)));
    }
    this.schedule();
    this.opts.logger.info({ accessLog, tcpListen, tcpPort: this.tcpPort, intervalMs: this.opts.intervalMs() }, 'proxy usage ingestion started');
  }

  /** Reads new lines now, and enqueues what has been summed (tests, shutdown). */
  async flushNow(): Promise<void> {
    this.poll();
    await this.flush();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.pollTimer);
    clearTimeout(this.flushTimer);
    await this.receiver?.close();
    try {
      this.poll();
      await this.flush();
    } catch (err) {
      // The position was not saved: the lines are read again at the next start.
      this.opts.logger.warn({ err }, 'could not record the last usage at shutdown; it is read again at the next start');
    }
    this.tailer?.close();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.flushTimer = setTimeout(
      () => {
        this.flush()
          .catch((err: unknown) => this.opts.logger.error({ err }, 'cannot record usage in the outbox; will retry'))
          .finally(() => this.schedule());
      },
      Math.max(100, this.opts.intervalMs()),
    );
  }

  private poll(): void {
    if (!this.tailer) return;
    let chunks;
    try {
      chunks = this.tailer.poll();
    } catch (err) {
      this.opts.logger.warn({ err, file: this.tailer.file }, 'cannot read the access log; will retry');
      return;
    }
    for (const chunk of chunks) {
      // A report covers one range of one file; a rotation or truncation closes it (and the report) early.
      const to = this.fileRange?.to;
      if (to && (to.inode !== chunk.from.inode || to.generation !== chunk.from.generation)) this.enqueueInBackground();
      for (const line of chunk.lines) if (line.length > 0) this.fileAgg.add(parseSquidLine(line), line);
      this.fileRange = { from: this.fileRange?.from ?? chunk.from, to: chunk.to };
      if (this.fileAgg.size >= MAX_REPORT_LINES) this.enqueueInBackground();
    }
  }

  private enqueueInBackground(): void {
    this.enqueueFile().catch((err: unknown) =>
      this.opts.logger.error({ err }, 'cannot record usage in the outbox; the lines are read again at the next start'),
    );
  }

  private flush(): Promise<void> {
    // One flush at a time; a failed flush does not stop the next one.
    this.flushing = this.flushing
      .catch(() => undefined)
      .then(async () => {
        this.poll();
        const writes = [this.enqueueFile(), this.enqueueTcp()];
        this.intervalStart = (this.opts.now ?? Date.now)();
        await Promise.all(writes);
      });
    return this.flushing;
  }

  /** Enqueues the file sums and the position after them in one outbox transaction (same tick). */
  private enqueueFile(): Promise<void> {
    const range = this.fileRange;
    if (!range) return Promise.resolve();
    this.fileRange = undefined;
    const { lines, badSamples } = this.fileAgg.drain();
    this.logBad(badSamples, 'file');
    const id = `${this.opts.name}:f:${range.from.inode}:${range.from.generation}:${range.from.offset}-${range.to.offset}`;
    const writes: Promise<unknown>[] = [];
    // One chunk of the file can hold more sums than a report may; the parts of one range have
    // ids of their own, the same ones whenever the range is read again (the order is the file's).
    for (let i = 0; i < lines.length; i += MAX_REPORT_LINES) {
      writes.push(this.enqueueReport(i === 0 ? id : `${id}:${i / MAX_REPORT_LINES}`, lines.slice(i, i + MAX_REPORT_LINES)));
    }
    writes.push(this.opts.outbox.putMeta(TAIL_META_KEY, JSON.stringify(range.to)));
    return Promise.all(writes).then(
      () => {
        this.persisted = range.to;
      },
      (err: unknown) => {
        // Neither the usage nor the position is on disk: forget everything read since the last
        // saved position and read it again, so a failing disk delays usage but never loses it.
        this.fileAgg.drain();
        this.fileRange = undefined;
        this.tailer?.rewind(this.persisted);
        throw err;
      },
    );
  }

  private enqueueTcp(): Promise<void> {
    const { lines, badSamples } = this.tcpAgg.drain();
    this.logBad(badSamples, 'tcp');
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < lines.length; i += MAX_REPORT_LINES) {
      writes.push(this.enqueueReport(`${this.opts.name}:t:${this.startedAt}:${this.tcpSeq++}`, lines.slice(i, i + MAX_REPORT_LINES)));
    }
    return Promise.all(writes).then(() => undefined);
  }

  private enqueueReport(id: string, lines: UsageLine[]): Promise<unknown> {
    const reportId = fitReportId(id);
    const now = (this.opts.now ?? Date.now)();
    const report: UsageReport = { reportId, intervalStartMs: Math.min(this.intervalStart, now), intervalEndMs: now, lines };
    return this.opts.outbox.enqueue({ kind: 'usage.report', key: reportId, payload: report });
  }

  private logBad(samples: string[], source: string): void {
    if (samples.length > 0)
      this.opts.logger.warn(
        { source, samples, badSoFar: source === 'file' ? this.fileAgg.counts.bad : this.tcpAgg.counts.bad },
        'unreadable Squid log lines skipped',
      );
  }
}
