/**
 * The local endpoint's decisions with the primary's answers scripted: every failure mode, the
 * offline bookkeeping, and a full outbox. The same flows against the real primary, stopped and
 * restarted, are in test/integration/secondary/.
 */
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import type { AuthorizeJobRequest } from '../../../protos/generated/quotient/v1/AuthorizeJobRequest';
import type { AuthorizeJobResponse__Output } from '../../../protos/generated/quotient/v1/AuthorizeJobResponse';
import type { JobEventBatch } from '../../../protos/generated/quotient/v1/JobEventBatch';
import type { JobEventResults__Output } from '../../../protos/generated/quotient/v1/JobEventResults';
import { ControlState, type FailureModeName } from '../../../secondary/control-state';
import { PrintDecisions, REASON_HOLD, REASON_OUTBOX, REASON_UNCOUNTABLE, REASON_UNREACHABLE } from '../../../secondary/local-endpoint/print-decisions';
import { localJobSchema, type LocalJob } from '../../../secondary/local-endpoint/protocol';
import { Outbox } from '../../../secondary/outbox/outbox';
import { removeDir, silentLogger, tempDir } from '../../unit/secondary/helpers';

const WIRE_MODE: Record<FailureModeName, 'FAILURE_MODE_CHARGE_LATER' | 'FAILURE_MODE_HOLD' | 'FAILURE_MODE_DENY' | 'FAILURE_MODE_FREE'> = {
  charge_later: 'FAILURE_MODE_CHARGE_LATER',
  hold: 'FAILURE_MODE_HOLD',
  deny: 'FAILURE_MODE_DENY',
  free: 'FAILURE_MODE_FREE',
};

const unavailable = (): Error => Object.assign(new Error('UNAVAILABLE'), { code: status.UNAVAILABLE, details: 'No connection established' });

describe('PrintDecisions', () => {
  let dir: string;
  let outbox: Outbox;
  let control: ControlState;
  let decisions: PrintDecisions;
  let authorize: (req: AuthorizeJobRequest) => Promise<AuthorizeJobResponse__Output>;
  let submitted: JobEventBatch[];
  let outcomes: unknown[];

  const job = (overrides: Partial<LocalJob> = {}): LocalJob =>
    localJobSchema.parse({ jobId: 'urn:uuid:1', queue: 'lab', username: 'ann', pages: 3, ...overrides });

  const build = (opts: { minFreeBytes?: number; maxBytes?: number } = {}): void => {
    outbox?.close();
    outbox = Outbox.open({ dataDir: dir, logger: silentLogger, minFreeBytes: opts.minFreeBytes ?? 0, ...(opts.maxBytes ? { maxBytes: opts.maxBytes } : {}) });
    control = new ControlState(silentLogger, outbox);
    decisions = new PrintDecisions({
      outbox,
      control,
      logger: silentLogger,
      callDeadlineMs: 1000,
      status: () => ({
        name: 'p',
        role: 'print',
        primary: 'x:1',
        registered: true,
        connected: true,
        outboxDepth: 0,
        oldestPendingMs: 0,
        deadLetters: 0,
        offlineJobs: 0,
        blockedUsers: 0,
        badLogLines: 0,
        writable: true,
        configKnown: true,
      }),
      onPrimaryOutcome: (err) => outcomes.push(err),
      primary: {
        authorizeJob: (req) => authorize(req),
        commitJob: () => Promise.reject(new Error('not used')),
        releaseJob: () => Promise.reject(new Error('not used')),
        submitJobEvents: (batch: JobEventBatch): Promise<JobEventResults__Output> => {
          submitted.push(batch);
          return Promise.resolve({
            results: (batch.events ?? []).map((e) =>
              e.release
                ? { jobId: e.release.jobId ?? '', result: 'released' as const, released: { jobId: e.release.jobId ?? '' } }
                : { jobId: e.commit?.jobId ?? '', result: 'committed' as const, committed: { jobId: '', cost: 1 } },
            ),
          });
        },
      },
    });
  };

  const setModes = (modes: Record<string, FailureModeName>, disabled: string[] = []): void =>
    control.applyConfig({
      printers: Object.entries(modes).map(([queue, mode]) => ({
        queue,
        enabled: !disabled.includes(queue),
        failureMode: WIRE_MODE[mode],
        unknownPageCount: 'UNKNOWN_PAGE_COUNT_HOLD' as const,
        unknownPageCountPages: 0,
      })),
      usageReportIntervalSeconds: 60,
    });

  beforeEach(() => {
    dir = tempDir();
    submitted = [];
    outcomes = [];
    authorize = () => Promise.reject(unavailable());
    build();
  });

  afterEach(async () => {
    await control.flush();
    outbox.close();
    removeDir(dir);
  });

  describe('authorize() with the primary reachable', () => {
    it("answers with the primary's decision and cost, sending the job with its submission time", async () => {
      let sent: AuthorizeJobRequest | undefined;
      authorize = (req) => {
        sent = req;
        return Promise.resolve({ jobId: 'urn:uuid:1', decision: 'DECISION_ALLOW', reason: '', cost: 60, charged: true });
      };
      const before = Date.now();
      assert.deepEqual(await decisions.authorize(job()), {
        ok: true,
        jobId: 'urn:uuid:1',
        decision: 'allow',
        reason: '',
        cost: 60,
        charged: true,
        offline: false,
      });
      assert.equal(sent?.job?.jobId, 'urn:uuid:1');
      assert.ok(Number(sent?.job?.submittedAtMs) >= before);
      assert.deepEqual(outcomes, [undefined]);
    });

    it("passes a denial on with the primary's reason", async () => {
      authorize = () => Promise.resolve({ jobId: 'urn:uuid:1', decision: 'DECISION_DENY', reason: 'not enough credit', cost: 70, charged: true });
      assert.deepEqual(await decisions.authorize(job()), {
        ok: true,
        jobId: 'urn:uuid:1',
        decision: 'deny',
        reason: 'not enough credit',
        cost: 70,
        charged: true,
        offline: false,
      });
    });

    it('denies a job the primary refuses as invalid, without applying the failure mode', async () => {
      authorize = () => Promise.reject(Object.assign(new Error('bad'), { code: status.INVALID_ARGUMENT, details: 'job.queue is too long' }));
      const answer = await decisions.authorize(job());
      assert.deepEqual(answer, {
        ok: true,
        jobId: 'urn:uuid:1',
        decision: 'deny',
        reason: 'the accounting server refused the job: job.queue is too long',
        cost: 0,
        charged: false,
        offline: false,
      });
      assert.equal(outbox.offlineJobCount(), 0);
    });
  });

  describe('authorize() of a job whose pages nothing could count: the unknownPageCount rule', () => {
    const setRule = (rule: 'UNKNOWN_PAGE_COUNT_HOLD' | 'UNKNOWN_PAGE_COUNT_CHARGE_MAXIMUM' | 'UNKNOWN_PAGE_COUNT_UNSPECIFIED', pages: number): void =>
      control.applyConfig({
        printers: [{ queue: 'lab', enabled: true, failureMode: 'FAILURE_MODE_CHARGE_LATER', unknownPageCount: rule, unknownPageCountPages: pages }],
        usageReportIntervalSeconds: 60,
      });
    let sent: AuthorizeJobRequest[];
    beforeEach(() => {
      sent = [];
      authorize = (req) => {
        sent.push(req);
        return Promise.resolve({
          jobId: req.job?.jobId ?? '',
          decision: 'DECISION_ALLOW',
          reason: '',
          cost: Number(req.job?.pages) * Number(req.job?.copies) * 10,
          charged: true,
        });
      };
    });

    it('holds it for an administrator (review), asking nobody, by default and under hold', async () => {
      const held = { ok: true, jobId: 'urn:uuid:1', decision: 'review', reason: REASON_UNCOUNTABLE, cost: 0, charged: false, offline: false };
      assert.deepEqual(await decisions.authorize(job({ pagesKnown: false })), held, 'a printer the primary never configured');
      setRule('UNKNOWN_PAGE_COUNT_UNSPECIFIED', 50);
      assert.deepEqual(await decisions.authorize(job({ pagesKnown: false })), held, 'an older primary that does not say');
      setRule('UNKNOWN_PAGE_COUNT_HOLD', 50);
      assert.deepEqual(await decisions.authorize(job({ pagesKnown: false })), held);
      assert.deepEqual(sent, []);
      assert.equal(outbox.offlineJobCount(), 0);
    });

    it('charges the printer maximum (all copies, colour when asked for colour) under charge-maximum, and sends the primary no pagesKnown field', async () => {
      setRule('UNKNOWN_PAGE_COUNT_CHARGE_MAXIMUM', 50);
      const answer = await decisions.authorize(job({ pagesKnown: false, pages: 1, colourPages: 1, copies: 3 }));
      assert.deepEqual([answer.decision, answer.cost], ['allow', 500]);
      assert.deepEqual([sent[0]?.job?.pages, sent[0]?.job?.copies, sent[0]?.job?.colourPages], [50, 1, 50]);
      assert.equal('pagesKnown' in (sent[0]?.job ?? {}), false);
    });

    it('holds it under charge-maximum when the printer has no maximum (no max-pages filter)', async () => {
      setRule('UNKNOWN_PAGE_COUNT_CHARGE_MAXIMUM', 0);
      assert.equal((await decisions.authorize(job({ pagesKnown: false }))).decision, 'review');
      assert.deepEqual(sent, []);
    });

    it('applies the rule offline too: the maximum is remembered for the offline record', async () => {
      setRule('UNKNOWN_PAGE_COUNT_CHARGE_MAXIMUM', 40);
      authorize = () => Promise.reject(unavailable());
      assert.equal((await decisions.authorize(job({ pagesKnown: false }))).decision, 'allow');
      assert.equal(outbox.offlineJob<{ pages: number }>('urn:uuid:1')?.job.pages, 40);
    });

    it('charges the count an administrator gave a held job (set-pages) when it is released, kept across a restart', async () => {
      assert.equal((await decisions.authorize(job({ pagesKnown: false }))).decision, 'review');
      await decisions.handle({ op: 'set-pages', jobId: 'urn:uuid:1', pages: 7 });
      build();
      const answer = await decisions.authorize(job({ pagesKnown: false, copies: 2 }));
      assert.deepEqual([answer.decision, answer.cost], ['allow', 140]);
      assert.deepEqual([sent[0]?.job?.pages, sent[0]?.job?.copies], [7, 2]);
      assert.equal((await decisions.authorize(job({ jobId: 'urn:uuid:2', pagesKnown: false }))).decision, 'review', 'only that job');
    });

    it('leaves a counted job alone whatever the rule', async () => {
      setRule('UNKNOWN_PAGE_COUNT_CHARGE_MAXIMUM', 50);
      await decisions.authorize(job({ pages: 3 }));
      assert.equal(sent[0]?.job?.pages, 3);
    });
  });

  describe('authorize() with the primary unreachable: the failure mode of the printer', () => {
    it('charge later (the default, also for a printer the primary never configured): allows and remembers the job', async () => {
      assert.deepEqual(await decisions.authorize(job()), {
        ok: true,
        jobId: 'urn:uuid:1',
        decision: 'allow',
        reason: REASON_UNREACHABLE,
        cost: 0,
        charged: true,
        offline: true,
      });
      assert.equal(outbox.offlineJob('urn:uuid:1')?.free, false);
      assert.equal(outcomes.length, 1);
    });

    it('free: allows and remembers the job as free', async () => {
      setModes({ lab: 'free' });
      assert.deepEqual(await decisions.authorize(job()), {
        ok: true,
        jobId: 'urn:uuid:1',
        decision: 'allow',
        reason: REASON_UNREACHABLE,
        cost: 0,
        charged: false,
        offline: true,
      });
      assert.equal(outbox.offlineJob('urn:uuid:1')?.free, true);
    });

    const waitingRelease = (jobId = 'urn:uuid:1'): unknown => outbox.waiting(`job:${jobId}`)?.payload;

    it('hold: holds the job, remembers nothing, and queues its release in case the primary had authorised it', async () => {
      setModes({ lab: 'hold' });
      assert.deepEqual(await decisions.authorize(job()), {
        ok: true,
        jobId: 'urn:uuid:1',
        decision: 'hold',
        reason: REASON_HOLD,
        cost: 0,
        charged: false,
        offline: true,
      });
      assert.equal(outbox.offlineJobCount(), 0);
      assert.deepEqual(waitingRelease(), { release: { jobId: 'urn:uuid:1', reason: `not printed: ${REASON_HOLD}` } });
      // CUPS retrying while the primary is still away queues nothing more.
      await decisions.authorize(job());
      assert.equal(outbox.depth(), 1);
    });

    it('deny: denies with "the accounting server is unreachable", and queues its release in case the primary had authorised it', async () => {
      setModes({ lab: 'deny' });
      assert.deepEqual(await decisions.authorize(job()), {
        ok: true,
        jobId: 'urn:uuid:1',
        decision: 'deny',
        reason: 'the accounting server is unreachable',
        cost: 0,
        charged: false,
        offline: true,
      });
      assert.deepEqual(waitingRelease(), { release: { jobId: 'urn:uuid:1', reason: 'not printed: the accounting server is unreachable' } });
    });

    it('queues no release for a job printed here before: the primary expires a held later attempt itself', async () => {
      await decisions.commit('urn:uuid:1', 3);
      outbox.ack(outbox.nextBatch(10).map((e) => e.id));
      setModes({ lab: 'deny' });
      assert.equal((await decisions.authorize(job())).decision, 'deny');
      assert.equal(outbox.depth(), 0);
    });

    it('sends a waiting release ahead of the authorisation when the primary is back, so the retry is a new attempt and its commit is not swallowed', async () => {
      setModes({ lab: 'hold' });
      assert.equal((await decisions.authorize(job())).decision, 'hold');
      const order: string[] = [];
      const before = submitted.length;
      authorize = () => {
        order.push(`authorize after ${submitted.length - before} event(s)`);
        return Promise.resolve({ jobId: 'urn:uuid:1#2', decision: 'DECISION_ALLOW', reason: '', cost: 30, charged: true });
      };
      assert.deepEqual(await decisions.authorize(job()), {
        ok: true,
        jobId: 'urn:uuid:1#2',
        decision: 'allow',
        reason: '',
        cost: 30,
        charged: true,
        offline: false,
      });
      assert.deepEqual(
        submitted.slice(before).map((b) => b.events),
        [[{ release: { jobId: 'urn:uuid:1', reason: `not printed: ${REASON_HOLD}` } }]],
      );
      assert.deepEqual(order, ['authorize after 1 event(s)']);
      assert.equal(outbox.depth(), 0, 'the delivered release is acknowledged');
      assert.deepEqual(await decisions.commit('urn:uuid:1#2', undefined), { ok: true, duplicate: false, direct: false });
    });

    it('denies on a printer the primary disabled, and for a user it blocked (charge later)', async () => {
      setModes({ lab: 'charge_later', old: 'free' }, ['old']);
      control.applySnapshot([{ username: 'bob', blocked: true, reason: 'no credit left' }]);
      assert.equal((await decisions.authorize(job({ queue: 'old' }))).reason, 'this printer is disabled');
      assert.deepEqual(await decisions.authorize(job({ username: 'bob' })), {
        ok: true,
        jobId: 'urn:uuid:1',
        decision: 'deny',
        reason: 'no credit left',
        cost: 0,
        charged: false,
        offline: true,
      });
      assert.equal((await decisions.authorize(job({ jobId: 'urn:uuid:2' }))).decision, 'allow');
    });

    it('keeps applying the failure modes after a restart, from the configuration saved on disk', async () => {
      setModes({ lab: 'deny' });
      await control.flush();
      build();
      assert.equal((await decisions.authorize(job())).reason, REASON_UNREACHABLE);
      assert.equal((await decisions.authorize(job())).decision, 'deny');
    });
  });

  describe('commit() and release()', () => {
    it('queues the commit of an online job, once, however often it is repeated', async () => {
      assert.deepEqual(await decisions.commit('urn:uuid:1', 4), { ok: true, duplicate: false, direct: false });
      assert.deepEqual(await decisions.commit('urn:uuid:1', 4), { ok: true, duplicate: true, direct: false });
      assert.deepEqual(
        outbox.nextBatch(10).map((e) => e.payload),
        [{ commit: { jobId: 'urn:uuid:1', printedPages: 4 } }],
      );
    });

    it('turns the commit of a job authorised offline into an offline record with the job and its pages', async () => {
      setModes({ lab: 'free' });
      await decisions.authorize(job({ jobId: 'urn:uuid:f', documentName: 'essay.pdf' }));
      await decisions.commit('urn:uuid:f', 3);
      const [event] = outbox.nextBatch(10);
      assert.equal(event?.kind, 'job.offline');
      const offline = (event?.payload as { offline: { job: { jobId: string; documentName: string }; free: boolean; printedPages: number } }).offline;
      assert.deepEqual([offline.job.jobId, offline.job.documentName, offline.free, offline.printedPages], ['urn:uuid:f', 'essay.pdf', true, 3]);
      assert.equal(outbox.offlineJobCount(), 0);
    });

    it('forgets an offline job that is released but still queues its release, as for an online one', async () => {
      // The primary may have reserved the offline job just before the connection dropped.
      await decisions.authorize(job({ jobId: 'urn:uuid:off' }));
      await decisions.release('urn:uuid:off', 'backend failed');
      await decisions.release('urn:uuid:on', 'cancelled');
      assert.deepEqual(
        outbox.nextBatch(10).map((e) => e.payload),
        [{ release: { jobId: 'urn:uuid:off', reason: 'backend failed' } }, { release: { jobId: 'urn:uuid:on', reason: 'cancelled' } }],
      );
      assert.equal(outbox.offlineJobCount(), 0);
    });

    it('forgets an offline authorisation when the primary later authorises the same job (CUPS retried it)', async () => {
      await decisions.authorize(job());
      authorize = () => Promise.resolve({ jobId: 'urn:uuid:1', decision: 'DECISION_ALLOW', reason: '', cost: 30, charged: true });
      await decisions.authorize(job());
      await decisions.commit('urn:uuid:1', undefined);
      assert.deepEqual(
        outbox.nextBatch(10).map((e) => e.payload),
        [{ commit: { jobId: 'urn:uuid:1' } }],
      );
    });
  });

  describe('a job printed again under its CUPS UUID (Restart-Job)', () => {
    it('answers with the attempt the primary names, and commits under it', async () => {
      authorize = () => Promise.resolve({ jobId: 'urn:uuid:1#2', decision: 'DECISION_ALLOW', reason: '', cost: 30, charged: true });
      assert.deepEqual(await decisions.authorize(job()), {
        ok: true,
        jobId: 'urn:uuid:1#2',
        decision: 'allow',
        reason: '',
        cost: 30,
        charged: true,
        offline: false,
      });
      await decisions.commit('urn:uuid:1#2', undefined);
      assert.deepEqual(
        outbox.nextBatch(10).map((e) => [e.key, e.payload]),
        [['job:urn:uuid:1#2', { commit: { jobId: 'urn:uuid:1#2' } }]],
      );
    });

    it('sends the commit of the print before first, so the primary cannot take the reprint for a retry', async () => {
      let commitsSentBeforeAuthorize: unknown;
      authorize = () => {
        commitsSentBeforeAuthorize = submitted.map((b) => b.events);
        return Promise.resolve({ jobId: 'urn:uuid:1#2', decision: 'DECISION_ALLOW', reason: '', cost: 30, charged: true });
      };
      await decisions.commit('urn:uuid:1', 3);
      assert.deepEqual(submitted, []);
      await decisions.authorize(job());
      assert.deepEqual(commitsSentBeforeAuthorize, [[{ commit: { jobId: 'urn:uuid:1', printedPages: 3 } }]]);
      // The outbox still holds it: the primary takes its replay as a duplicate.
      assert.deepEqual(
        outbox.nextBatch(10).map((e) => e.key),
        ['job:urn:uuid:1'],
      );
    });

    it('records a reprint while the primary is away under an id of its own, kept while CUPS retries it', async () => {
      await decisions.commit('urn:uuid:1', undefined);
      const first = await decisions.authorize(job());
      assert.match(first.jobId ?? '', /^urn:uuid:1#offline-\d+$/);
      assert.equal((await decisions.authorize(job())).jobId, first.jobId);
      await decisions.commit(first.jobId ?? '', 3);
      const events = outbox.nextBatch(10);
      assert.deepEqual(
        events.map((e) => e.key),
        ['job:urn:uuid:1', `job:${first.jobId}`],
      );
      const offline = (events[1]?.payload as { offline: { job: { jobId: string }; printedPages: number } }).offline;
      assert.deepEqual([offline.job.jobId, offline.printedPages], [first.jobId, 3]);
      assert.equal(outbox.offlineJobCount(), 0);
    });

    it('still knows a job printed before the secondary restarted: a reprint while the primary is away gets an id of its own', async () => {
      await decisions.commit('urn:uuid:1', 3);
      outbox.ack(outbox.nextBatch(10).map((e) => e.id)); // delivered before the restart
      await control.flush();
      build();
      const reprint = await decisions.authorize(job());
      assert.match(reprint.jobId ?? '', /^urn:uuid:1#offline-\d+$/);
      assert.equal(outbox.offlineJob(reprint.jobId ?? '')?.jobId, reprint.jobId);
    });

    it('keeps the id of a reprint authorised offline when CUPS retries it after the secondary restarted', async () => {
      await decisions.commit('urn:uuid:1', undefined);
      const first = await decisions.authorize(job());
      await control.flush();
      build();
      assert.equal((await decisions.authorize(job())).jobId, first.jobId);
      assert.equal(outbox.offlineJobCount(), 1);
      await decisions.commit(first.jobId ?? '', 3);
      assert.deepEqual(
        outbox.nextBatch(10).map((e) => e.key),
        ['job:urn:uuid:1', `job:${first.jobId}`],
      );
      assert.equal(outbox.offlineJobCount(), 0);
    });

    it('after a restart, still sends the commit of the print before authorising the reprint', async () => {
      await decisions.commit('urn:uuid:1', 3);
      await control.flush();
      build();
      authorize = () => Promise.resolve({ jobId: 'urn:uuid:1#2', decision: 'DECISION_ALLOW', reason: '', cost: 30, charged: true });
      assert.equal((await decisions.authorize(job())).jobId, 'urn:uuid:1#2');
      assert.deepEqual(
        submitted.map((b) => b.events),
        [[{ commit: { jobId: 'urn:uuid:1', printedPages: 3 } }]],
      );
    });

    it('records a job printed offline for the first time under its UUID', async () => {
      assert.equal((await decisions.authorize(job())).jobId, 'urn:uuid:1');
      assert.equal(outbox.offlineJob('urn:uuid:1')?.jobId, 'urn:uuid:1');
    });
  });

  describe('a full disk', () => {
    it('denies new jobs with a clear reason instead of printing jobs it could not record', async () => {
      build({ minFreeBytes: Number.MAX_SAFE_INTEGER });
      authorize = () => Promise.resolve({ jobId: 'urn:uuid:1', decision: 'DECISION_ALLOW', reason: '', cost: 30, charged: true });
      assert.deepEqual(await decisions.authorize(job()), {
        ok: true,
        jobId: 'urn:uuid:1',
        decision: 'deny',
        reason: REASON_OUTBOX,
        cost: 0,
        charged: false,
        offline: false,
      });
    });

    it('sends a commit straight to the primary when the outbox cannot write it', async () => {
      build({ maxBytes: 48 * 1024 });
      // Fill the capped outbox until it refuses.
      for (let n = 0; ; n++) {
        try {
          await outbox.enqueue({ kind: 'job.commit', key: `filler-${n}`, payload: { blob: 'z'.repeat(4000) } });
        } catch {
          break;
        }
      }
      assert.deepEqual(await decisions.commit('urn:uuid:direct', 2), { ok: true, duplicate: false, direct: true });
      assert.deepEqual(
        submitted.map((b) => b.events),
        [[{ commit: { jobId: 'urn:uuid:direct', printedPages: 2 } }]],
      );
    });
  });
});
