/**
 * The answers behind the local endpoint (what the CUPS backend asks): authorise a job by asking the primary (which
 * prices it and reserves the cost), or, when the primary cannot be reached, by the printer's
 * failure mode; record commits and releases in the durable outbox and answer at once.
 *
 * A job authorised offline is remembered durably; its commit becomes an offline record (charged,
 * or recorded free, when the primary is back) and its release is sent like any other. While the outbox
 * cannot write, new jobs are refused with a clear reason rather than printed and lost.
 */
import type { Logger } from '../../common/logger';
import type { JobEvent } from '../../protos/generated/quotient/v1/JobEvent';
import type { PrintJob } from '../../protos/generated/quotient/v1/PrintJob';
import type { ControlState } from '../control-state';
import { commitEvent, jobEventKey, offlineEvent, releaseEvent } from '../outbox/job-events';
import type { EnqueueResult, NewOutboxEvent, Outbox } from '../outbox/outbox';
import { OutboxWriteError } from '../outbox/outbox-errors';
import { describeGrpcError, isPermanent } from '../primary-client/grpc-status';
import { withRetry } from '../primary-client/backoff';
import type { PrimaryClient } from '../primary-client/primary-client';
import type { LocalHandler } from './server';
import {
  ATTEMPT_SEPARATOR,
  type AuthorizeAnswer,
  type BlockedAnswer,
  type LocalAnswer,
  type LocalJob,
  type ParsedLocalRequest,
  type QueuedAnswer,
  type StatusAnswer,
} from './protocol';

export const REASON_UNREACHABLE = 'the accounting server is unreachable';
export const REASON_HOLD = 'the accounting server is unreachable; the job is held and will be retried';
export const REASON_OUTBOX = 'this print server cannot record print jobs (its disk is full or read-only); the job was refused';
export const REASON_DISABLED = 'this printer is disabled';
export const REASON_UNCOUNTABLE = 'Quotient cannot count the pages of this document; it is held for an administrator';

/** outbox.db meta key of the page counts administrators gave held jobs (set-pages). */
const ADMIN_PAGES_KEY = 'admin-page-counts';
/** The most such counts kept (the oldest are forgotten): a count is used within minutes of being set. */
const MAX_ADMIN_PAGE_COUNTS = 1000;

type OfflineRecordJob = PrintJob & { jobId: string };

export interface PrintDecisionsDeps {
  outbox: Outbox;
  primary: Pick<PrimaryClient, 'authorizeJob' | 'commitJob' | 'releaseJob' | 'submitJobEvents'>;
  control: ControlState;
  logger: Logger;
  /** Time the primary has to answer an authorisation, retries included. */
  callDeadlineMs: number;
  status: () => Omit<StatusAnswer, 'ok'>;
  /** Told about every call to the primary (undefined = it answered). */
  onPrimaryOutcome: (err: unknown) => void;
}

export class PrintDecisions implements LocalHandler {
  /*
   * The outbox remembers the last commit of each job recently printed here, by CUPS job UUID
   * (Outbox.committedJob(), on disk, so across restarts). CUPS lets a job's owner restart a
   * printed job under the same UUID; the primary charges that as a new attempt, but only once it
   * knows the first one printed, and that commit may still be waiting in the outbox. So before
   * such a job is authorised its commit is sent first (the outbox's copy is a duplicate when it
   * follows); and while the primary is away the reprint is remembered offline under an id of its
   * own, `<uuid>#offline-<time>`, found again in the outbox while CUPS retries it (offlineAttempt()).
   */

  constructor(private readonly deps: PrintDecisionsDeps) {}

  async handle(request: ParsedLocalRequest): Promise<LocalAnswer> {
    switch (request.op) {
      case 'authorize':
        return this.authorize(request.job);
      case 'commit':
        return this.commit(request.jobId, request.printedPages);
      case 'release':
        return this.release(request.jobId, request.reason);
      case 'status':
        return { ok: true, ...this.deps.status() };
      case 'blocked':
        return this.blocked(request.username);
      case 'set-pages':
        return this.setPages(request.jobId, request.pages);
    }
  }

  /**
   * The printer's unknownPageCount rule, for a job whose pages nothing could count: the page count
   * an administrator gave it (set-pages), else the printer's maximum under charge-maximum, else
   * held for an administrator. Applied here, before the primary is asked, so it holds online and
   * offline alike. Returns the job to authorise, or the answer.
   */
  private unknownPages(job: LocalJob): LocalJob | AuthorizeAnswer {
    const given = this.adminPageCounts()[job.jobId];
    const policy = this.deps.control.printer(job.queue);
    const pages = given?.pages ?? (policy.unknownPageCount === 'charge-maximum' && policy.maximumPages > 0 ? policy.maximumPages : undefined);
    if (pages === undefined) {
      this.deps.logger.info(
        { jobId: job.jobId, queue: job.queue, rule: policy.unknownPageCount },
        'pages of a job could not be counted; held for an administrator',
      );
      return { ok: true, jobId: job.jobId, decision: 'review', reason: REASON_UNCOUNTABLE, cost: 0, charged: false, offline: false };
    }
    this.deps.logger.info(
      { jobId: job.jobId, queue: job.queue, pages, by: given ? 'administrator' : 'charge-maximum' },
      'pages of a job could not be counted; charged by the unknownPageCount rule',
    );
    // An administrator counts one copy; the maximum counts every copy (it is the max-pages filter).
    const copies = given ? job.copies : 1;
    return { ...job, pages, copies, colourPages: job.colourPages > 0 ? pages : 0, pagesKnown: true };
  }

  private adminPageCounts(): Record<string, { pages: number; at: number }> {
    try {
      return JSON.parse(this.deps.outbox.getMeta(ADMIN_PAGES_KEY) ?? '{}') as Record<string, { pages: number; at: number }>;
    } catch {
      return {};
    }
  }

  private async setPages(jobId: string, pages: number): Promise<QueuedAnswer> {
    const counts = this.adminPageCounts();
    counts[jobId] = { pages, at: Date.now() };
    const kept = Object.entries(counts)
      .sort((a, b) => b[1].at - a[1].at)
      .slice(0, MAX_ADMIN_PAGE_COUNTS);
    await this.deps.outbox.putMeta(ADMIN_PAGES_KEY, JSON.stringify(Object.fromEntries(kept)));
    this.deps.logger.info({ jobId, pages }, 'an administrator gave the page count of a held job');
    return { ok: true, duplicate: false, direct: false };
  }

  async authorize(requested: LocalJob): Promise<AuthorizeAnswer> {
    const { outbox, logger } = this.deps;
    let localJob = requested;
    if (!requested.pagesKnown) {
      const ruled = this.unknownPages(requested);
      if ('ok' in ruled) return ruled;
      localJob = ruled;
    }
    // Its commit will have to be recorded: refuse now rather than print a job that cannot be.
    try {
      await outbox.ensureWritable();
    } catch (err) {
      if (err instanceof OutboxWriteError) return deny(localJob.jobId, REASON_OUTBOX);
      throw err;
    }
    const job = toPrintJob(localJob);
    const end = Date.now() + this.deps.callDeadlineMs;
    try {
      const printedBefore = outbox.committedJob(job.jobId);
      if (printedBefore)
        await this.deps.primary.submitJobEvents({ events: [printedBefore.payload as JobEvent] }, { deadlineMs: Math.max(50, end - Date.now()) });
      await this.sendWaitingRelease(job.jobId, end);
      const answer = await withRetry(
        () => this.deps.primary.authorizeJob({ job }, { deadlineMs: Math.max(50, end - Date.now()) }),
        // A second, quick try covers a connection that was just reset; the deadline bounds both.
        { maxAttempts: 2, baseMs: 50, maxMs: 100 },
      );
      this.deps.onPrimaryOutcome(undefined);
      // Authorised offline before and now online (CUPS retried it): the online step wins.
      for (const offlineId of [job.jobId, this.offlineAttempt(job.jobId)]) {
        if (offlineId !== undefined && outbox.offlineJob(offlineId)) await outbox.settleOfflineJob(offlineId, () => undefined);
      }
      const jobId = answer.jobId || job.jobId;
      if (answer.decision === 'DECISION_ALLOW') {
        return { ok: true, jobId, decision: 'allow', reason: '', cost: answer.cost, charged: answer.charged, offline: false };
      }
      return {
        ok: true,
        jobId,
        decision: 'deny',
        reason: answer.reason || 'denied by the accounting server',
        cost: answer.cost,
        charged: answer.charged,
        offline: false,
      };
    } catch (err) {
      if (err instanceof OutboxWriteError) return deny(job.jobId, REASON_OUTBOX);
      this.deps.onPrimaryOutcome(err);
      if (isPermanent(err)) {
        // The primary looked at the job and refused it as it is (a bad field, an unknown printer).
        logger.warn({ jobId: job.jobId, error: describeGrpcError(err) }, 'the primary refused to authorise a job');
        return deny(job.jobId, `the accounting server refused the job: ${(err as { details?: string }).details ?? 'invalid job'}`);
      }
      logger.warn({ jobId: job.jobId, queue: job.queue, error: describeGrpcError(err) }, 'primary unreachable; applying the failure mode');
      return this.offline(job);
    }
  }

  /** The primary could not decide: the printer's failure mode does. */
  private async offline(job: OfflineRecordJob & { queue: string; username: string }): Promise<AuthorizeAnswer> {
    const answer = await this.offlineDecision(job);
    // The primary may hold an authorisation for this job (given before it went away, or given
    // just now with the answer lost): a job not printed must reach it as a release.
    if (answer.decision !== 'allow') await this.releaseInCase(job.jobId, answer.reason);
    return answer;
  }

  private async offlineDecision(job: OfflineRecordJob & { queue: string; username: string }): Promise<AuthorizeAnswer> {
    const policy = this.deps.control.printer(job.queue);
    if (!policy.enabled) return deny(job.jobId, REASON_DISABLED, true);
    switch (policy.failureMode) {
      case 'hold':
        return { ok: true, jobId: job.jobId, decision: 'hold', reason: REASON_HOLD, cost: 0, charged: false, offline: true };
      case 'deny':
        return deny(job.jobId, REASON_UNREACHABLE, true);
      case 'free':
        return this.allowOffline(job, true);
      case 'charge_later': {
        // The primary said this user has no credit left; it still holds while it is away.
        const blocked = this.deps.control.blockedReason(job.username);
        if (blocked !== undefined) return deny(job.jobId, blocked, true);
        return this.allowOffline(job, false);
      }
    }
  }

  /**
   * Queues a release of the job's first attempt, in case the primary authorised it (releasing a
   * job it holds nothing for changes nothing). Not for a job printed here before: a held attempt
   * would be `<uuid>#n`, which only the primary knows; its expiry job releases that one
   * (printing.authorisationTimeout). A release that cannot be written is logged: the same expiry
   * covers it.
   */
  private async releaseInCase(jobId: string, why: string): Promise<void> {
    const { outbox, logger } = this.deps;
    if (outbox.committedJob(jobId) !== undefined) return;
    try {
      await outbox.enqueue(releaseEvent(jobId, `not printed: ${why}`));
    } catch (err) {
      if (!(err instanceof OutboxWriteError)) throw err;
      logger.warn({ jobId, err: err.message }, 'cannot queue the release of a job not printed; the primary expires its authorisation if it has one');
    }
  }

  /**
   * A release queued by releaseInCase() and not delivered yet is sent before the job is
   * authorised again (CUPS retried it): otherwise the primary would answer with the attempt it
   * still holds, whose commit would then be swallowed by the waiting release (one event per job),
   * and the release would give the money back for a job that printed. Once the primary has it,
   * the retry is a new attempt, charged on its own. Failing to send it fails the authorisation
   * (the failure mode decides).
   */
  private async sendWaitingRelease(jobId: string, end: number): Promise<void> {
    const waiting = this.deps.outbox.waiting(jobEventKey(jobId));
    if (waiting?.kind !== 'job.release') return;
    const answer = await this.deps.primary.submitJobEvents({ events: [waiting.payload as JobEvent] }, { deadlineMs: Math.max(50, end - Date.now()) });
    if (answer.results[0]?.result === 'released') this.deps.outbox.ack([waiting.id]);
  }

  private async allowOffline(requested: OfflineRecordJob, free: boolean): Promise<AuthorizeAnswer> {
    // A job printed here before is printed again: its offline record must not look like a
    // replay of the first print's, so it gets an id of its own (kept while CUPS retries it).
    let jobId = this.offlineAttempt(requested.jobId) ?? requested.jobId;
    if (jobId === requested.jobId && this.deps.outbox.committedJob(requested.jobId) !== undefined) jobId = `${offlinePrefix(requested.jobId)}${Date.now()}`;
    const job = { ...requested, jobId };
    try {
      await this.deps.outbox.rememberOfflineJob(jobId, job, free);
    } catch (err) {
      if (err instanceof OutboxWriteError) return deny(requested.jobId, REASON_OUTBOX);
      throw err;
    }
    return { ok: true, jobId, decision: 'allow', reason: REASON_UNREACHABLE, cost: 0, charged: !free, offline: true };
  }

  async commit(jobId: string, printedPages: number | undefined): Promise<QueuedAnswer> {
    // Remembered under the job's UUID with the event, in the same write (so a reprint after a
    // restart is still known). A commit sent straight to the primary because the outbox cannot
    // write is not remembered: the primary has it, so only an offline reprint would be missed.
    const committedJob = jobId.split(ATTEMPT_SEPARATOR)[0] ?? jobId;
    return this.record(
      jobId,
      (outbox) =>
        outbox
          .settleOfflineJob<OfflineRecordJob>(jobId, (rec) => offlineEvent(rec.job, printedPages, rec.free), { committedJob })
          .then((settled) => settled ?? outbox.enqueue(commitEvent(jobId, printedPages), { committedJob })),
      (offline) => (offline ? offlineEvent(offline.job, printedPages, offline.free) : commitEvent(jobId, printedPages)),
    );
  }

  /** The reprint of a job authorised offline under an id of its own and not settled yet (CUPS retries it). */
  private offlineAttempt(jobUuid: string): string | undefined {
    return this.deps.outbox.offlineJobIdWithPrefix(offlinePrefix(jobUuid));
  }

  async release(jobId: string, reason: string): Promise<QueuedAnswer> {
    return this.record(
      jobId,
      // Released even when it was authorised offline: the primary may have reserved the job just
      // before the connection dropped, and a release of a job it never saw changes nothing.
      (outbox) => outbox.settleOfflineJob(jobId, () => releaseEvent(jobId, reason)).then((settled) => settled ?? outbox.enqueue(releaseEvent(jobId, reason))),
      () => releaseEvent(jobId, reason),
    );
  }

  private blocked(username: string): BlockedAnswer {
    const reason = this.deps.control.blockedReason(username);
    return { ok: true, blocked: reason !== undefined, reason: reason ?? '' };
  }

  /**
   * Writes the event durably and answers at once. When the outbox cannot write, the event is
   * sent straight to the primary instead; only when that fails too is the caller told so.
   */
  private async record(
    jobId: string,
    write: (outbox: Outbox) => Promise<EnqueueResult | 'forgotten'>,
    direct: (offline: { job: OfflineRecordJob; free: boolean } | undefined) => NewOutboxEvent | undefined,
  ): Promise<QueuedAnswer> {
    const { outbox, logger } = this.deps;
    try {
      const result = await write(outbox);
      return { ok: true, duplicate: result !== 'forgotten' && result.duplicate, direct: false };
    } catch (err) {
      if (!(err instanceof OutboxWriteError)) throw err;
      const event = direct(outbox.offlineJob<OfflineRecordJob>(jobId));
      if (!event) return { ok: true, duplicate: false, direct: false };
      try {
        const answer = await this.deps.primary.submitJobEvents({ events: [event.payload as JobEvent] });
        const result = answer.results[0];
        if (result?.result === 'error') throw Object.assign(new Error(result.error?.message ?? 'refused'), { code: result.error?.code });
        this.deps.onPrimaryOutcome(undefined);
        logger.warn({ jobId, kind: event.kind }, 'outbox cannot write; the event was sent straight to the primary');
        return { ok: true, duplicate: false, direct: true };
      } catch (sendErr) {
        logger.error({ jobId, kind: event.kind, outbox: err.message, primary: describeGrpcError(sendErr) }, 'job event could be neither recorded nor sent');
        throw err;
      }
    }
  }
}

function offlinePrefix(jobUuid: string): string {
  return `${jobUuid}${ATTEMPT_SEPARATOR}offline-`;
}

function deny(jobId: string, reason: string, offline = false): AuthorizeAnswer {
  return { ok: true, jobId, decision: 'deny', reason, cost: 0, charged: false, offline };
}

/** The job as the primary receives it; a job without a submission time is stamped now, so an offline record keeps when it printed. */
export function toPrintJob(job: LocalJob): OfflineRecordJob & { queue: string; username: string } {
  const { pagesKnown: _known, ...printJob } = job;
  return { ...printJob, submittedAtMs: printJob.submittedAtMs || Date.now() };
}
