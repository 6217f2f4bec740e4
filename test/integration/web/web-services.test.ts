import assert from 'node:assert/strict';
import { describeOnEachDatabase } from '../../utils/databases';
import { servicesFor } from '../../utils/fixtures';
import { createServices, type Services } from '../../../primary/services';
import { MB } from '../../../primary/internet/internet-settings';
import type { UsageInput } from '../../../primary/internet/internet-charging';
import { parseJobDescription } from '../../../primary/printing/job-events';
import { ABSOLUTE_TIMEOUT_MS, IDLE_TIMEOUT_MS, SessionStore } from '../../../web-tools/middleware/session-store';
import { SigninThrottle, USER_POLICY } from '../../../web-tools/middleware/signin-throttle';
import { WebAuth } from '../../../web-tools/middleware/web-auth';
import { UserPages } from '../../../web-tools/pages/user-pages';
import { AdminPages } from '../../../web-tools/pages/admin-pages';
import { UserTransfers } from '../../../primary/ledger/transfers';
import { recordAudit } from '../../../primary/audit/audit-log';

describeOnEachDatabase('web services', (t) => {
  let s: Services;
  let clock: number;
  const now = (): number => clock;
  let annId: number;
  let bobId: number;

  beforeEach(async () => {
    s = servicesFor(t.db);
    clock = Date.UTC(2026, 10, 22, 12);
    annId = (await s.users.createUser({ username: 'ann', password: 'ann-password-1', initialCredit: 1000, restricted: true })).id;
    bobId = (await s.users.createUser({ username: 'bob', password: 'bob-password-1', initialCredit: 500 })).id;
  });

  const printFor = async (username: string, pages: number, opts: { copies?: number; duplex?: boolean } = {}): Promise<number> => {
    const job = parseJobDescription({
      jobId: `job-${username}-${pages}-${opts.copies ?? 1}`,
      queue: 'q1',
      username,
      documentName: 'doc.pdf',
      pages,
      colourPages: 0,
      copies: opts.copies ?? 1,
      duplex: opts.duplex ?? false,
      paperSize: 'A4',
      finishings: [],
      accountCode: '',
      clientHost: '',
      submittedAt: 0,
    });
    await s.printing.submit({ kind: 'authorize', secondary: 'print-1', job });
    await s.printing.submit({ kind: 'commit', secondary: 'print-1', jobId: job.jobId });
    const row = (await t.db.knex('print_jobs').where({ job_uuid: job.jobId }).first('id')) as { id: number | string };
    return Number(row.id);
  };

  describe('SessionStore', () => {
    it('stores only a hash of the cookie value and finds the session and its user by the value', async () => {
      const store = new SessionStore({ db: t.db, now });
      const { token, session } = await store.create(annId);
      const rows = (await t.db.knex('web_sessions').select('id_hash')) as { id_hash: string }[];
      assert.deepEqual(
        rows.map((r) => r.id_hash),
        [session.idHash],
      );
      assert.ok(!rows.some((r) => r.id_hash.includes(token)));
      const found = await store.find(token);
      assert.deepEqual(found?.user, { id: annId, username: 'ann', fullName: '', isAdmin: false, language: null });
      assert.equal(await store.find(session.idHash), undefined);
    });

    it('ends a session idle too long, and any session past its absolute lifetime', async () => {
      const store = new SessionStore({ db: t.db, now });
      const idle = await store.create(annId);
      clock += IDLE_TIMEOUT_MS;
      assert.equal(await store.find(idle.token), undefined);
      const busy = await store.create(annId);
      for (let i = 0; i < 12; i++) {
        clock += IDLE_TIMEOUT_MS / 2;
        if (clock - busy.session.createdAt < ABSOLUTE_TIMEOUT_MS) assert.ok(await store.find(busy.token));
      }
      assert.equal(await store.find(busy.token), undefined);
    });

    it('refuses the session of a disabled user', async () => {
      const store = new SessionStore({ db: t.db, now });
      const { token } = await store.create(annId);
      await s.users.update(annId, { disabled: true });
      assert.equal(await store.find(token), undefined);
    });
  });

  describe('SigninThrottle and WebAuth.signIn()', () => {
    it('locks a username after five failures for 30 s, shared by two primaries on the database', async () => {
      const a = new WebAuth({ db: t.db, users: s.users, now });
      const b = new WebAuth({ db: t.db, users: s.users, now });
      for (let i = 0; i < 5; i++) assert.deepEqual(await (i % 2 ? a : b).signIn('ANN', 'wrong', '10.0.0.1'), { ok: false, reason: 'invalid' });
      assert.deepEqual(await a.signIn('ann', 'ann-password-1', '10.0.0.2'), { ok: false, reason: 'throttled', retryAfterMs: 30_000 });
      clock += 30_000;
      const ok = await b.signIn('ann', 'ann-password-1', '10.0.0.2');
      assert.equal(ok.ok, true);
      assert.equal(await t.db.knex('web_signin_failures').where({ throttle_key: 'user:ann' }).first(), undefined);
    });

    it('doubles the lock with each further failure', async () => {
      const throttle = new SigninThrottle({ db: t.db, now });
      for (let i = 0; i < 7; i++) await throttle.recordFailure([['user:x', USER_POLICY]]);
      assert.equal(await throttle.retryAfter(['user:x']), 120_000);
    });

    /** A WebAuth whose address delays are recorded instead of waited for. */
    const recording = (): { auth: WebAuth; slept: number[] } => {
      const slept: number[] = [];
      return {
        auth: new WebAuth({
          db: t.db,
          users: s.users,
          now,
          sleep: async (ms) => {
            slept.push(ms);
          },
        }),
        slept,
      };
    };

    it('never refuses the right password for its address alone: 30 failures with made-up names slow the address, the right password still signs in', async () => {
      const { auth, slept } = recording();
      for (let i = 0; i < 30; i++) assert.deepEqual(await auth.signIn(`made-up-${i}`, 'guess', '10.0.0.9'), { ok: false, reason: 'invalid' });
      // 20 free failures, then each attempt waits before its check: 250 ms doubling to 10 s.
      assert.deepEqual(slept, [250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000, 10_000]);
      const ok = await auth.signIn('ann', 'ann-password-1', '10.0.0.9');
      assert.equal(ok.ok, true);
      assert.equal(slept.at(-1), 10_000); // the right password waited like any attempt, so its speed says nothing
      assert.equal(slept.length, 11);
      // Another address is not slowed; the slowed one keeps its count after a success.
      assert.equal((await auth.signIn('bob', 'bob-password-1', '10.0.0.10')).ok, true);
      assert.equal(slept.length, 11);
      const row = (await t.db.knex('web_signin_failures').where({ throttle_key: 'ip:10.0.0.9' }).first()) as { failures: number };
      assert.equal(Number(row.failures), 30);
    });

    it("counts an address's failures in windows of 15 minutes: a new window starts from zero", async () => {
      const { auth, slept } = recording();
      for (let i = 0; i < 22; i++) await auth.signIn(`made-up-${i}`, 'guess', '10.0.0.9');
      assert.equal(await auth.throttle.delayFor('ip:10.0.0.9'), 1000);
      clock += 15 * 60_000 - 1;
      assert.equal(await auth.throttle.delayFor('ip:10.0.0.9'), 1000);
      clock += 1;
      assert.equal(await auth.throttle.delayFor('ip:10.0.0.9'), 0);
      await auth.signIn('made-up', 'guess', '10.0.0.9');
      const row = (await t.db.knex('web_signin_failures').where({ throttle_key: 'ip:10.0.0.9' }).first()) as { failures: number; updated_at: number | string };
      assert.deepEqual([Number(row.failures), Number(row.updated_at)], [1, clock]);
      assert.deepEqual(slept, [250, 500]);
    });

    it('refuses a locked account at once, before any address delay, even with its right password', async () => {
      const { auth, slept } = recording();
      for (let i = 0; i < 5; i++) await auth.signIn('ann', 'wrong', `10.0.1.${i}`);
      for (let i = 0; i < 25; i++) await auth.signIn(`made-up-${i}`, 'guess', '10.0.0.9');
      const before = slept.length;
      assert.deepEqual(await auth.signIn('ann', 'ann-password-1', '10.0.0.9'), { ok: false, reason: 'throttled', retryAfterMs: 30_000 });
      assert.equal(slept.length, before);
    });

    it('counts every one of concurrent failures from one address, on two primaries', async () => {
      const a = new SigninThrottle({ db: t.db, now });
      const b = new SigninThrottle({ db: t.db, now });
      await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).recordAddressFailure('ip:10.0.0.9')));
      const row = (await t.db.knex('web_signin_failures').where({ throttle_key: 'ip:10.0.0.9' }).first()) as { failures: number };
      assert.equal(Number(row.failures), 12);
    });

    it('treats an unknown user like a wrong password', async () => {
      const auth = new WebAuth({ db: t.db, users: s.users, now });
      assert.deepEqual(await auth.signIn('nobody', 'whatever-1', '10.0.0.1'), { ok: false, reason: 'invalid' });
      assert.deepEqual(await auth.signIn('', '', '10.0.0.1'), { ok: false, reason: 'invalid' });
    });
  });

  describe('refund requests', () => {
    it("finds nothing when a user asks for a refund of another user's job", async () => {
      const bobJob = await printFor('bob', 2);
      const pages = new UserPages({ services: s, now });
      await assert.rejects(pages.requestRefund(annId, bobJob, 'mine'), { code: 'NOT_FOUND' });
      assert.equal((await t.db.knex('refund_requests')).length, 0);
    });

    it('refunds an approved request exactly once, into the ledger, and audits it', async () => {
      const jobId = await printFor('ann', 4);
      const pages = new UserPages({ services: s, now });
      await pages.requestRefund(annId, jobId, 'jammed');
      await assert.rejects(pages.requestRefund(annId, jobId, 'again'), { code: 'ALREADY_EXISTS' });
      assert.equal((await pages.jobs(annId))[0]?.refund, 'pending');
      const admin = new AdminPages({ services: s, now });
      const [request] = await admin.refunds();
      assert.ok(request);
      await admin.approveRefund(request.id, 'sorry', 'root');
      await assert.rejects(admin.approveRefund(request.id, 'sorry', 'root'), { code: 'INVALID_STATE' });
      const rows = (await t.db.knex('ledger').where({ type: 'refund' })) as { amount: number | string; balance_after: number | string; actor: string }[];
      assert.deepEqual(
        rows.map((r) => [Number(r.amount), Number(r.balance_after), r.actor]),
        [[40, 1000, 'root']],
      );
      assert.equal((await s.users.personalAccount(annId)).balance, 1000);
      assert.equal((await t.db.knex('audit_log').where({ action: 'refund.approve' })).length, 1);
      assert.deepEqual((await s.ledger.verify()).problems, []);
    });
  });

  describe('UserPages', () => {
    it("summarises only the user's own month: spend, pages and sheets", async () => {
      await printFor('ann', 3);
      await printFor('ann', 3, { copies: 2, duplex: true }); // 2 sheets a copy
      await printFor('bob', 7);
      const summary = await new UserPages({ services: s }).summary(annId);
      const charged = 1000 - (await s.users.personalAccount(annId)).balance;
      assert.deepEqual([summary.periodSpent, summary.periodPages, summary.periodJobs, summary.impact.sheets], [charged, 9, 2, 3 + 4]);
      assert.ok(charged > 30);
      const tx = await new UserPages({ services: s }).transactions(annId, { pageSize: 1 });
      assert.equal(tx.rows.length, 1);
      assert.ok(tx.olderBeforeId !== null);
      assert.equal((await new UserPages({ services: s }).summary(bobId)).periodPages, 7);
    });
  });

  describe("UserPages.internet() and the summary's internet figures", () => {
    const minute = 60_000;
    const line = (username: string, domain: string, bytesIn: number, bytesOut = 0, at = clock): UsageInput => ({
      username,
      domain,
      bytesIn,
      bytesOut,
      cacheHitBytes: 0,
      requests: 3,
      firstSeenMs: at,
      lastSeenMs: at + minute,
    });
    /** Charges three proxy reports at 2 minor units per MB, with free.test zero-rated; returns their row ids. */
    const chargeUsage = async (): Promise<{ r1: number; r2: number; r3: number }> => {
      const sc = createServices(t.db, { now });
      await sc.internetSettings.set({ costPerMbMilli: 2000, zeroRatedDomains: ['free.test'] });
      const report = async (reportId: string, lines: UsageInput[]): Promise<number> => {
        await sc.internet.report({ reportId, secondary: 'proxy-1', intervalStartMs: clock, intervalEndMs: clock + 5 * minute, lines });
        clock += 5 * minute;
        return Number(((await t.db.knex('internet_reports').where({ report_id: reportId }).first('id')) as { id: number | string }).id);
      };
      // ann: 3 MB down + 1 MB up charged (8), 1 MB from a free site; bob: 5 MB (10).
      const r1 = await report('r1', [line('ann', 'example.com', 3 * MB, MB), line('ann', 'free.test', MB), line('bob', 'example.com', 5 * MB)]);
      const r2 = await report('r2', [line('ann', 'example.com', 1.5 * MB)]); // 3
      const r3 = await report('r3', [line('bob', 'bob-only.example', 7 * MB)]); // 14
      return { r1, r2, r3 };
    };

    it("lists the user's own reports, newest first, with MB used, MB charged and the exact cost", async () => {
      const { r1, r2 } = await chargeUsage();
      const pages = new UserPages({ services: s, now });
      const { rows, olderBeforeId } = await pages.internet(annId);
      assert.deepEqual(
        rows.map((r) => [r.id, r.bytes, r.chargedBytes, r.cost]),
        [
          [r2, 1.5 * MB, 1.5 * MB, 3],
          [r1, 5 * MB, 4 * MB, 8],
        ],
      );
      assert.deepEqual([rows[1]?.from, rows[1]?.to], [Date.UTC(2026, 10, 22, 12), Date.UTC(2026, 10, 22, 12, 5)]);
      assert.equal(olderBeforeId, null);
      assert.equal((await s.users.personalAccount(annId)).balance, 1000 - 11);
    });

    it('pages back one report at a time with the cursor of the oldest row shown', async () => {
      const { r1, r2 } = await chargeUsage();
      const pages = new UserPages({ services: s, now });
      const first = await pages.internet(annId, { pageSize: 1 });
      assert.deepEqual([first.rows.map((r) => r.id), first.olderBeforeId], [[r2], r2]);
      const second = await pages.internet(annId, { pageSize: 1, beforeId: r2 });
      assert.deepEqual([second.rows.map((r) => [r.id, r.cost]), second.olderBeforeId], [[[r1, 8]], null]);
    });

    it("shows a user nothing of another user's usage, even with the other user's report id as the cursor", async () => {
      const { r1, r3 } = await chargeUsage();
      const pages = new UserPages({ services: s, now });
      const ann = await pages.internet(annId, { beforeId: r3 + 1 });
      assert.ok(ann.rows.every((r) => r.id !== r3));
      assert.deepEqual(
        (await pages.internet(annId, { beforeId: r3 })).rows.map((r) => r.cost),
        [3, 8],
      );
      const bob = await pages.internet(bobId);
      assert.deepEqual(
        bob.rows.map((r) => [r.id, r.bytes, r.cost]),
        [
          [r3, 7 * MB, 14],
          [r1, 5 * MB, 10],
        ],
      );
    });

    it("totals this month's internet cost and traffic on the summary, apart from printing", async () => {
      await chargeUsage();
      await printFor('ann', 2);
      const pages = new UserPages({ services: s, now });
      const ann = await pages.summary(annId);
      assert.deepEqual([ann.periodNetSpent, ann.periodNetBytes, ann.periodSpent, ann.periodPages], [11, 6.5 * MB, 20, 2]);
      const bob = await pages.summary(bobId);
      assert.deepEqual([bob.periodNetSpent, bob.periodNetBytes, bob.periodSpent], [24, 12 * MB, 0]);
      // Next month starts again from nothing.
      clock = Date.UTC(2026, 11, 1, 0, 0, 1);
      const december = await pages.summary(annId);
      assert.deepEqual([december.periodNetSpent, december.periodNetBytes], [0, 0]);
    });
  });

  describe('UserTransfers.send()', () => {
    const send = (transfers: UserTransfers, to: string, amount: number, formKey = `key-${to}-${amount}-000000000`) =>
      transfers.send(annId, { toUsername: to, amount, comment: 'lunch', formKey });
    const balances = async (): Promise<[number, number]> => [(await s.users.personalAccount(annId)).balance, (await s.users.personalAccount(bobId)).balance];
    const enable = async (): Promise<UserTransfers> => {
      await s.settings.set('transfers.enabled', true);
      await s.settings.set('transfers.minimum', 50);
      await s.settings.set('transfers.maximum', 600);
      return new UserTransfers({ services: s, now });
    };

    it('moves the amount as two transfer rows, once per form key, and audits it with the sender as actor', async () => {
      const transfers = await enable();
      assert.deepEqual(await send(transfers, 'BOB', 250, 'form-key-0123456789'), { balanceAfter: 750, replayed: false });
      assert.deepEqual(await send(transfers, 'bob', 250, 'form-key-0123456789'), { balanceAfter: 750, replayed: true });
      assert.deepEqual(await balances(), [750, 750]);
      const rows = (await t.db.knex('ledger').where({ type: 'transfer' }).orderBy('id')) as {
        amount: number | string;
        balance_after: number | string;
        actor: string;
        comment: string;
      }[];
      assert.deepEqual(
        rows.map((r) => [Number(r.amount), Number(r.balance_after), r.actor, r.comment]),
        [
          [-250, 750, 'ann', 'ann → bob: lunch'],
          [250, 750, 'ann', 'ann → bob: lunch'],
        ],
      );
      const audit = (await t.db.knex('audit_log').where({ action: 'balance.transfer' })) as { actor: string; target_id: string; details: string }[];
      assert.deepEqual(
        audit.map((a) => [a.actor, a.target_id, (JSON.parse(a.details) as { amount: number }).amount]),
        [['ann', 'bob', 250]],
      );
      assert.deepEqual((await s.ledger.verify()).problems, []);
    });

    it("refuses, changing nothing: when off, below the minimum, above the maximum, to oneself, to an unknown or disabled user, and past a restricted sender's limit", async () => {
      const off = new UserTransfers({ services: s, now });
      await assert.rejects(send(off, 'bob', 100), { reason: 'disabled', httpStatus: 403 });
      const transfers = await enable();
      await assert.rejects(send(transfers, 'bob', 49), { reason: 'minimum' });
      await assert.rejects(send(transfers, 'bob', 601), { reason: 'maximum' });
      await assert.rejects(send(transfers, 'bob', 0), { reason: 'amount' });
      await assert.rejects(send(transfers, 'ann', 100), { reason: 'self' });
      await assert.rejects(send(transfers, 'nobody', 100), { reason: 'unknownUser', httpStatus: 404 });
      await s.users.createUser({ username: 'gone', password: 'gone-password-1' });
      await s.users.update((await s.users.getByUsername('gone')).id, { disabled: true });
      await assert.rejects(send(transfers, 'gone', 100), { reason: 'unknownUser' });
      await s.ledger.adjust({ accountId: (await s.users.personalAccount(annId)).id, amount: -500, key: 'spend-ann', comment: '' });
      await assert.rejects(send(transfers, 'bob', 501), { reason: 'insufficient', httpStatus: 402 }); // ann is restricted, overdraft 0
      assert.deepEqual(await balances(), [500, 500]);
      assert.equal((await t.db.knex('ledger').where({ type: 'transfer' })).length, 0);
      assert.equal((await t.db.knex('audit_log').where({ action: 'balance.transfer' })).length, 0);
      // The whole balance may go, exactly to the limit.
      assert.equal((await send(transfers, 'bob', 500)).balanceAfter, 0);
    });

    it('lets an unrestricted sender go below zero', async () => {
      const transfers = await enable();
      await s.users.update(bobId, { restricted: false });
      const fromBob = await transfers.send(bobId, { toUsername: 'ann', amount: 600, comment: '', formKey: 'bob-form-key-000000' });
      assert.equal(fromBob.balanceAfter, -100);
      assert.deepEqual(await balances(), [1600, -100]);
    });
  });

  describe('AdminPages: quota schedules and their runs', () => {
    it('shows each schedule with its next run and its runs, and the latest runs on the dashboard', async () => {
      const sc = createServices(t.db, { now, timezone: 'UTC' }); // Sunday 2026-11-22 12:00 UTC
      await sc.groups.create({ name: 'staff' });
      await sc.groups.addMembers('staff', ['ann']);
      await sc.quotas.create({ name: 'staff-weekly', group: 'staff', period: 'weekly', weekday: 1, atTime: '06:00', mode: 'add', amount: 500, cap: 2000 });
      await sc.quotas.create({ name: 'everyone-daily', allUsers: true, period: 'daily', atTime: '00:00', mode: 'add', amount: 100 });
      await sc.quotas.create({ name: 'paused', allUsers: true, period: 'monthly', dayOfMonth: 1, mode: 'reset', amount: 300, enabled: false });
      await sc.quotas.runNow('staff-weekly');
      await sc.quotas.runNow('everyone-daily');
      const admin = new AdminPages({ services: sc, now });
      const views = await admin.quotaSchedules();
      const staff = (await sc.groups.get('staff')).id;
      assert.deepEqual(
        views.map((v) => [v.schedule.name, v.schedule.groupId, v.nextRun, v.runs.map((r) => [r.periodStart, r.state, r.reason, r.users, r.total])]),
        [
          ['everyone-daily', null, Date.UTC(2026, 10, 23), [[Date.UTC(2026, 10, 22), 'done', 'manual', 2, 200]]],
          ['paused', null, null, []],
          ['staff-weekly', staff, Date.UTC(2026, 10, 23, 6), [[Date.UTC(2026, 10, 16, 6), 'done', 'manual', 1, 500]]],
        ],
      );
      assert.deepEqual([(await sc.users.personalAccount(annId)).balance, (await sc.users.personalAccount(bobId)).balance], [1600, 600]);
      const d = await admin.dashboard();
      assert.deepEqual(
        d.quotaRuns.map((r) => [r.schedule, r.users, r.total]),
        [
          ['everyone-daily', 2, 200],
          ['staff-weekly', 1, 500],
        ],
      );
    });
  });

  describe('balance changes and their audit rows, in one transaction', () => {
    /** Runs `work` while the audit table is missing, so writing an audit row fails. */
    const withoutAuditTable = async (work: () => Promise<unknown>): Promise<void> => {
      await t.db.knex.schema.renameTable('audit_log', 'audit_log_away');
      try {
        await assert.rejects(work());
      } finally {
        await t.db.knex.schema.renameTable('audit_log_away', 'audit_log');
      }
    };
    const ledgerRows = async (): Promise<number> => Number(((await t.db.knex('ledger').count({ n: '*' }).first()) as { n: number | string }).n);

    it('writes no ledger row and changes no balance when the audit row cannot be written', async () => {
      const admin = new AdminPages({ services: s, now });
      await s.settings.set('transfers.enabled', true);
      const transfers = new UserTransfers({ services: s, now });
      const before = await ledgerRows();
      await withoutAuditTable(() => admin.adjustBalance(annId, 250, 'prize', 'form-key-adjust-0001', 'root'));
      await withoutAuditTable(() => admin.setBalance(annId, 5, 'reset', 'form-key-set-000001', 'root'));
      await withoutAuditTable(() => transfers.send(annId, { toUsername: 'bob', amount: 100, comment: '', formKey: 'form-key-xfer-00001' }));
      assert.equal(await ledgerRows(), before);
      assert.deepEqual([(await s.users.personalAccount(annId)).balance, (await s.users.personalAccount(bobId)).balance], [1000, 500]);
      // With the audit table back, the same forms go through, each with exactly one audit row.
      await admin.adjustBalance(annId, 250, 'prize', 'form-key-adjust-0001', 'root');
      await admin.setBalance(annId, 5, 'reset', 'form-key-set-000001', 'root');
      await admin.setBalance(annId, 5, 'reset', 'form-key-set-000001', 'root'); // the same form again
      const actions = (await t.db.knex('audit_log').whereIn('action', ['balance.adjust', 'balance.set']).orderBy('id').pluck('action')) as string[];
      assert.deepEqual(actions, ['balance.adjust', 'balance.set']);
      assert.equal((await s.users.personalAccount(annId)).balance, 5);
      assert.deepEqual((await s.ledger.verify()).problems, []);
    });

    it('announces the changed accounts once the change commits', async () => {
      const admin = new AdminPages({ services: s, now });
      const announced: number[][] = [];
      const listener = (ids: number[]): void => void announced.push(ids);
      t.db.events.on('accountsChanged', listener);
      try {
        await admin.adjustBalance(bobId, -50, '', 'form-key-adjust-0002', 'root');
      } finally {
        t.db.events.off('accountsChanged', listener);
      }
      assert.deepEqual(announced, [[(await s.users.personalAccount(bobId)).id]]);
    });
  });

  describe('SettingsService.setAll() and AdminPages.saveSettings()', () => {
    const stored = async (): Promise<string[]> =>
      ((await t.db.knex('settings').orderBy('key').select('key', 'value')) as { key: string; value: string }[]).map((r) => `${r.key}=${r.value}`);

    it('validates every value before writing any, and names the first invalid one', async () => {
      await assert.rejects(s.settings.setAll({ 'currency.symbol': '€', 'transfers.maximum': -5 }), {
        code: 'VALIDATION',
        details: { key: 'transfers.maximum' },
      });
      await assert.rejects(s.settings.setAll({ 'currency.symbol': '€', constructor: 1 } as Record<string, unknown>), {
        code: 'VALIDATION',
        details: { key: 'constructor' },
      });
      assert.deepEqual(await stored(), []);
    });

    it('writes the changes and what the caller writes in one transaction: a failure there undoes both', async () => {
      const audits = async (): Promise<number> => (await t.db.knex('audit_log').where({ action: 'settings.set' })).length;
      await assert.rejects(
        s.settings.setAll({ 'currency.symbol': '€', 'transfers.enabled': true }, async (trx) => {
          await recordAudit(trx, { actor: 'root', action: 'settings.set', targetType: 'setting', targetId: 'currency.symbol' });
          throw new Error('audit failed');
        }),
        /audit failed/,
      );
      assert.deepEqual(await stored(), []);
      assert.equal(await audits(), 0);
      assert.equal(await s.settings.get('currency.symbol'), '$');
      const changes = await s.settings.setAll({ 'currency.symbol': '€', 'transfers.enabled': true, 'currency.decimals': 2 });
      assert.deepEqual(changes, [
        { key: 'currency.symbol', from: '$', to: '€' },
        { key: 'transfers.enabled', from: false, to: true },
      ]);
      assert.deepEqual(await stored(), ['currency.symbol="€"', 'transfers.enabled=true']);
    });

    it('saves the admin form with one audit row per change, and refuses a checkbox value that is not "true"', async () => {
      const admin = new AdminPages({ services: s, now });
      const form = Object.fromEntries((await admin.settings()).filter((f) => !f.checkbox || f.checked).map((f) => [f.key, f.checkbox ? 'true' : f.value]));
      await assert.rejects(admin.saveSettings({ ...form, 'currency.symbol': '€', 'transfers.enabled': 'yes' }, 'root'), {
        code: 'VALIDATION',
        details: { key: 'transfers.enabled' },
      });
      await assert.rejects(admin.saveSettings({ ...form, 'currency.decimals': '2.5' }, 'root'), { code: 'VALIDATION', details: { key: 'currency.decimals' } });
      assert.deepEqual(await stored(), []);
      await admin.saveSettings({ ...form, 'currency.symbol': '€', 'users.newUserRestricted': undefined }, 'root');
      assert.deepEqual(await stored(), ['currency.symbol="€"', 'users.newUserRestricted=false']);
      const audit = (await t.db.knex('audit_log').where({ action: 'settings.set' }).orderBy('target_id')) as {
        actor: string;
        target_id: string;
        details: string;
      }[];
      assert.deepEqual(
        audit.map((a) => [a.actor, a.target_id, JSON.parse(a.details) as unknown]),
        [
          ['root', 'currency.symbol', { from: '$', to: '€' }],
          ['root', 'users.newUserRestricted', { from: true, to: false }],
        ],
      );
    });
  });
});
