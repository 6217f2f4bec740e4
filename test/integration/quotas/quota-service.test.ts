import assert from 'node:assert/strict';
import { describeOnEachDatabase } from '../../utils/databases';
import { servicesFor } from '../../utils/fixtures';
import { openDatabase, type Database } from '../../../primary/db/connection';
import { allocationKey, QuotaService, type QuotaServiceOptions } from '../../../primary/quotas/quota-service';
import type { Services } from '../../../primary/services';

const t = (s: string): number => Date.parse(s);
const DAY = 86_400_000;

interface LedgerRow {
  account_id: number;
  amount: number | string;
  balance_after: number | string;
  type: string;
  reference: string | null;
  idempotency_key: string;
}

describeOnEachDatabase('QuotaService', (tdb) => {
  let s: Services;
  let clock: number;
  const quotas = (opts: Partial<QuotaServiceOptions> = {}): QuotaService =>
    new QuotaService({ db: tdb.db, now: () => clock, timezone: 'Europe/London', chunkSize: 2, owner: 'primary-a', ...opts });

  beforeEach(() => {
    s = servicesFor(tdb.db);
    clock = t('2026-03-02T12:00:00Z'); // a Monday
  });

  /** Creates users (unrestricted, with a starting balance) and returns username -> account id. */
  async function users(spec: Record<string, { groups?: string[]; balance?: number; disabled?: boolean }>): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const [username, u] of Object.entries(spec)) {
      const d = await s.users.createUser({ username, restricted: false, groups: u.groups ?? [], initialCredit: 0 });
      if (u.balance) await s.ledger.credit({ accountId: d.account.id, amount: u.balance, type: 'adjustment', key: `start:${username}` });
      if (u.disabled) await tdb.db.knex('users').where({ id: d.id }).update({ disabled: true });
      out[username] = d.account.id;
    }
    return out;
  }

  async function balances(ids: Record<string, number>): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const [name, id] of Object.entries(ids)) out[name] = (await s.ledger.getAccount(id)).balance;
    return out;
  }

  async function quotaRows(): Promise<LedgerRow[]> {
    return (await tdb.db.knex('ledger').where({ type: 'quota' }).orderBy('id')) as LedgerRow[];
  }

  describe('add mode', () => {
    it('credits each member of the group once for the period, with a quota ledger row', async () => {
      await s.groups.create({ name: 'students' });
      const ids = await users({ ann: { groups: ['students'] }, bob: { groups: ['students'], balance: 50 }, cat: {}, dan: { groups: ['students'] }, eve: { groups: ['students'], disabled: true } });
      const q = quotas();
      const sched = await q.create({ name: 'print', group: 'students', period: 'weekly', weekday: 1, mode: 'add', amount: 200 });
      clock = t('2026-03-09T00:00:30Z'); // Monday 00:00 GMT has passed
      const runs = await q.runDue();
      assert.equal(runs.length, 1);
      const run = runs[0]!;
      assert.deepEqual([run.periodStart, run.state, run.users, run.total, run.chunks, run.reason], [t('2026-03-09T00:00:00Z'), 'done', 3, 600, 2, 'schedule']);
      assert.deepEqual(await balances(ids), { ann: 200, bob: 250, cat: 0, dan: 200, eve: 0 });
      const rows = await quotaRows();
      assert.deepEqual(
        rows.map((r) => [r.account_id, Number(r.amount), Number(r.balance_after), r.reference, r.idempotency_key]),
        [ids.ann, ids.bob, ids.dan].map((id) => [id, 200, id === ids.bob ? 250 : 200, `quota-run:${run.id}`, allocationKey(sched.id, run.periodStart, id!)]),
      );
      assert.deepEqual(await q.runDue(), [], 'nothing more is due in the same period');
      assert.equal((await quotaRows()).length, 3);
    });

    it('never credits past the cap and never debits a user above it', async () => {
      const ids = await users({ ann: {}, bob: { balance: 400 }, cat: { balance: 450 }, dan: { balance: 600 } });
      const q = quotas();
      await q.create({ name: 'capped', allUsers: true, period: 'daily', mode: 'add', amount: 200, cap: 500 });
      const run = await q.runNow('capped');
      assert.deepEqual(await balances(ids), { ann: 200, bob: 500, cat: 500, dan: 600 });
      assert.deepEqual((await quotaRows()).map((r) => [r.account_id, Number(r.amount), Number(r.balance_after)]), [
        [ids.ann, 200, 200],
        [ids.bob, 100, 500],
        [ids.cat, 50, 500],
      ]);
      assert.deepEqual([run.users, run.total], [3, 350]);
    });

    it('gives a user in several groups the sum of their schedules', async () => {
      await s.groups.create({ name: 'a' });
      await s.groups.create({ name: 'b' });
      const ids = await users({ ann: { groups: ['a', 'b'] }, bob: { groups: ['a'] }, cat: { groups: ['b'] } });
      const q = quotas();
      await q.create({ name: 'qa', group: 'a', period: 'daily', mode: 'add', amount: 200 });
      await q.create({ name: 'qb', group: 'b', period: 'daily', mode: 'add', amount: 300 });
      clock = t('2026-03-03T00:00:01Z');
      assert.equal((await q.runDue()).length, 2);
      assert.deepEqual(await balances(ids), { ann: 500, bob: 200, cat: 300 });
    });
  });

  describe('reset mode', () => {
    it('sets each balance to the amount with one quota row of the difference, negative too', async () => {
      const ids = await users({ ann: {}, bob: { balance: 450 }, cat: { balance: 300 }, dan: {} });
      await s.ledger.debit({ accountId: ids.dan!, amount: 100, type: 'print', key: 'dan-print' });
      const q = quotas();
      await q.create({ name: 'time', allUsers: true, period: 'daily', mode: 'reset', amount: 300 });
      const run = await q.runNow('time');
      assert.deepEqual(await balances(ids), { ann: 300, bob: 300, cat: 300, dan: 300 });
      assert.deepEqual((await quotaRows()).map((r) => [r.account_id, Number(r.amount), Number(r.balance_after), r.type]), [
        [ids.ann, 300, 300, 'quota'],
        [ids.bob, -150, 300, 'quota'],
        [ids.dan, 400, 300, 'quota'],
      ]);
      assert.deepEqual([run.users, run.total], [3, 550]);
    });

    it('resets to the sum of the reset schedules on the same timetable that apply to the user', async () => {
      await s.groups.create({ name: 'a' });
      await s.groups.create({ name: 'b' });
      const ids = await users({ ann: { groups: ['a', 'b'], balance: 999 }, bob: { groups: ['a'] } });
      const q = quotas();
      await q.create({ name: 'ra', group: 'a', period: 'daily', mode: 'reset', amount: 200 });
      await q.create({ name: 'rb', group: 'b', period: 'daily', mode: 'reset', amount: 300 });
      clock = t('2026-03-03T00:00:01Z');
      await q.runDue();
      assert.deepEqual(await balances(ids), { ann: 500, bob: 200 });
      assert.deepEqual((await quotaRows()).map((r) => [r.account_id, Number(r.amount)]), [
        [ids.ann, -499],
        [ids.bob, 200],
      ]);
    });
  });

  describe('catch-up', () => {
    it('runs exactly the three weekly periods missed while down, in order, each once', async () => {
      const ids = await users({ ann: {}, bob: {}, cat: {} });
      const q = quotas({ catchUpDays: 30 });
      await q.create({ name: 'weekly', allUsers: true, period: 'weekly', weekday: 1, mode: 'add', amount: 200 });
      clock = t('2026-03-25T10:00:00Z'); // three Mondays later (9, 16, 23 March)
      const runs = await q.runDue();
      assert.deepEqual(
        runs.map((r) => [new Date(r.periodStart).toISOString(), r.reason, r.users]),
        [
          ['2026-03-09T00:00:00.000Z', 'catch-up', 3],
          ['2026-03-16T00:00:00.000Z', 'catch-up', 3],
          ['2026-03-23T00:00:00.000Z', 'schedule', 3],
        ],
      );
      assert.deepEqual(await q.runDue(), []);
      assert.deepEqual(await balances(ids), { ann: 600, bob: 600, cat: 600 });
      assert.equal((await quotaRows()).length, 9);
    });

    it('records periods older than the catch-up window as skipped and pays nothing for them', async () => {
      const ids = await users({ ann: {} });
      const q = quotas({ catchUpDays: 7 });
      await q.create({ name: 'weekly', allUsers: true, period: 'weekly', weekday: 1, mode: 'add', amount: 200 });
      clock = t('2026-03-25T10:00:00Z');
      const runs = await q.runDue();
      assert.deepEqual(runs.map((r) => new Date(r.periodStart).toISOString()), ['2026-03-23T00:00:00.000Z']);
      const history = await q.runs();
      assert.deepEqual(
        history.map((r) => [new Date(r.periodStart).toISOString(), r.state, r.users, r.total]),
        [
          ['2026-03-23T00:00:00.000Z', 'done', 1, 200],
          ['2026-03-16T00:00:00.000Z', 'skipped', 0, 0],
          ['2026-03-09T00:00:00.000Z', 'skipped', 0, 0],
        ],
      );
      assert.deepEqual(await balances(ids), { ann: 200 });
    });

    it('with catch-up 0 still pays the period due now, on time and after downtime, and skips only the missed ones', async () => {
      const ids = await users({ ann: {}, bob: {} });
      const q = quotas({ catchUpDays: 0 });
      await q.create({ name: 'weekly', allUsers: true, period: 'weekly', weekday: 1, mode: 'add', amount: 200 });
      clock = t('2026-03-09T00:00:30Z'); // the first Monday, half a minute in
      assert.deepEqual((await q.runDue()).map((r) => [new Date(r.periodStart).toISOString(), r.state, r.reason, r.users, r.total]), [['2026-03-09T00:00:00.000Z', 'done', 'schedule', 2, 400]]);
      clock = t('2026-04-01T10:00:00Z'); // down for three Mondays (16, 23, 30 March; 30 March is in summer time)
      assert.deepEqual((await q.runDue()).map((r) => [new Date(r.periodStart).toISOString(), r.reason, r.users]), [['2026-03-29T23:00:00.000Z', 'schedule', 2]]);
      assert.deepEqual(
        (await q.runs()).map((r) => [new Date(r.periodStart).toISOString(), r.state, r.total]),
        [
          ['2026-03-29T23:00:00.000Z', 'done', 400],
          ['2026-03-23T00:00:00.000Z', 'skipped', 0],
          ['2026-03-16T00:00:00.000Z', 'skipped', 0],
          ['2026-03-09T00:00:00.000Z', 'done', 400],
        ],
      );
      assert.deepEqual(await q.runDue(), []);
      assert.deepEqual(await balances(ids), { ann: 400, bob: 400 });
    });

    it('with catch-up 0 pays a period that starts exactly now', async () => {
      const ids = await users({ ann: {} });
      const q = quotas({ catchUpDays: 0 });
      await q.create({ name: 'daily', allUsers: true, period: 'daily', mode: 'add', amount: 100 });
      clock = t('2026-03-03T00:00:00Z');
      assert.deepEqual((await q.runDue()).map((r) => [new Date(r.periodStart).toISOString(), r.state, r.users]), [['2026-03-03T00:00:00.000Z', 'done', 1]]);
      assert.deepEqual(await balances(ids), { ann: 100 });
    });

    it('pays the current month even when it started before the catch-up window', async () => {
      const ids = await users({ ann: {} });
      const q = quotas({ catchUpDays: 7 });
      await q.create({ name: 'monthly', allUsers: true, period: 'monthly', dayOfMonth: 1, mode: 'add', amount: 1000 });
      clock = t('2026-05-20T12:00:00Z'); // down since March: April's period has ended, May's is current (1 May 00:00 BST)
      assert.deepEqual((await q.runDue()).map((r) => [new Date(r.periodStart).toISOString(), r.reason, r.users]), [['2026-04-30T23:00:00.000Z', 'schedule', 1]]);
      assert.deepEqual(
        (await q.runs()).map((r) => [new Date(r.periodStart).toISOString(), r.state]),
        [
          ['2026-04-30T23:00:00.000Z', 'done'],
          ['2026-03-31T23:00:00.000Z', 'skipped'],
        ],
      );
      assert.deepEqual(await balances(ids), { ann: 1000 });
    });

    it('follows the time zone across a daylight-saving change (daily 02:30, New York spring-forward)', async () => {
      await users({ ann: {} });
      clock = t('2026-03-07T00:00:00Z');
      const q = quotas({ timezone: 'America/New_York', catchUpDays: 30 });
      await q.create({ name: 'daily', allUsers: true, period: 'daily', atTime: '02:30', mode: 'add', amount: 100 });
      clock = t('2026-03-10T00:00:00Z');
      const runs = await q.runDue();
      assert.deepEqual(runs.map((r) => new Date(r.periodStart).toISOString()), ['2026-03-07T07:30:00.000Z', '2026-03-08T07:30:00.000Z', '2026-03-09T06:30:00.000Z']);
    });
  });

  describe('exactly once', () => {
    it('runs the current period once however often run-now is asked', async () => {
      const ids = await users({ ann: {}, bob: {}, cat: {} });
      const q = quotas();
      await q.create({ name: 'now', allUsers: true, period: 'daily', mode: 'add', amount: 100 });
      const first = await q.runNow('now');
      const second = await q.runNow('now');
      assert.equal(second.id, first.id);
      assert.deepEqual(await balances(ids), { ann: 100, bob: 100, cat: 100 });
      assert.equal((await q.runs()).length, 1);
    });

    it('resumes a run that crashed after two chunks, crediting every user exactly once', async () => {
      const ids = await users({ u1: {}, u2: {}, u3: {}, u4: {}, u5: {}, u6: {}, u7: {} });
      const crashing = quotas({
        afterChunk: ({ chunk }) => {
          if (chunk === 2) throw new Error('simulated crash');
        },
      });
      await crashing.create({ name: 'daily', allUsers: true, period: 'daily', mode: 'add', amount: 100 });
      clock = t('2026-03-03T00:00:01Z');
      await assert.rejects(crashing.runDue(), /simulated crash/);
      const [half] = await crashing.runs();
      assert.deepEqual([half?.state, half?.users, half?.leaseOwner], ['running', 4, 'primary-a']);

      const other = quotas({ owner: 'primary-b' });
      assert.deepEqual(await other.runDue(), [], 'the crashed owner still holds the lease');
      clock += 61_000; // the lease (60 s) has expired
      const resumed = await other.runDue();
      assert.deepEqual(resumed.map((r) => [r.state, r.users, r.total, r.chunks]), [['done', 7, 700, 4]]);
      assert.deepEqual(Object.values(await balances(ids)), [100, 100, 100, 100, 100, 100, 100]);
      const rows = await quotaRows();
      assert.equal(rows.length, 7);
      assert.equal(new Set(rows.map((r) => r.account_id)).size, 7);
    });

    it('skips an allocation already in the ledger under its key and pays everyone else', async () => {
      const ids = await users({ ann: {}, bob: {}, cat: {} });
      const q = quotas({ chunkSize: 1000 });
      const sched = await q.create({ name: 'daily', allUsers: true, period: 'daily', mode: 'add', amount: 100 });
      clock = t('2026-03-03T00:00:01Z');
      await s.ledger.credit({ accountId: ids.bob!, amount: 100, type: 'quota', key: allocationKey(sched.id, t('2026-03-03T00:00:00Z'), ids.bob!) });
      const [run] = await q.runDue();
      assert.deepEqual([run?.state, run?.users, run?.total], ['done', 2, 200]);
      assert.deepEqual(await balances(ids), { ann: 100, bob: 100, cat: 100 });
      assert.equal((await quotaRows()).length, 3);
    });

    it('lets only one of two primaries sharing the database run a period', async function () {
      this.timeout(60000);
      const names = Array.from({ length: 40 }, (_, i) => `user${i}`);
      const ids = await users(Object.fromEntries(names.map((n) => [n, {}])));
      const second: Database = openDatabase(tdb.url, tdb.dataDir);
      try {
        const a = quotas({ chunkSize: 3, catchUpDays: 30 });
        const b = new QuotaService({ db: second, now: () => clock, timezone: 'Europe/London', chunkSize: 3, owner: 'primary-b', catchUpDays: 30 });
        await a.create({ name: 'w1', allUsers: true, period: 'weekly', weekday: 1, mode: 'add', amount: 100 });
        await a.create({ name: 'd1', allUsers: true, period: 'daily', mode: 'add', amount: 10 });
        clock += 14 * DAY;
        const [ra, rb] = await Promise.all([a.runDue(), b.runDue(), a.runDue(), b.runDue()]);
        assert.ok(ra && rb);
        const history = await a.runs({ limit: 100 });
        assert.equal(history.length, 2 + 14);
        assert.ok(history.every((r) => r.state === 'done' && r.users === 40));
        for (const bal of Object.values(await balances(ids))) assert.equal(bal, 2 * 100 + 14 * 10);
        assert.equal((await quotaRows()).length, 40 * 16);
      } finally {
        await second.close();
      }
    });
  });

  describe('schedules', () => {
    it('rejects bad input clearly and stores nothing', async () => {
      const q = quotas();
      const rejects = (p: Promise<unknown>, re: RegExp): Promise<void> => assert.rejects(p, (e: Error) => re.test(e.message));
      await rejects(q.create({ name: 'x', allUsers: true, period: 'cron', cron: '99 * * * *', mode: 'add', amount: 1 }), /not a valid cron expression/);
      await rejects(q.create({ name: 'x', allUsers: true, period: 'daily', mode: 'add', amount: -1 }), /amount must not be negative/);
      await rejects(q.create({ name: 'x', group: 'nope', period: 'daily', mode: 'add', amount: 1 }), /group.*nope/);
      await rejects(q.create({ name: 'x', period: 'daily', mode: 'add', amount: 1 }), /either a group or all users/);
      await rejects(q.create({ name: 'x', allUsers: true, period: 'daily', mode: 'reset', amount: 1, cap: 5 }), /add mode only/);
      assert.deepEqual(await q.list(), []);
    });

    it('shows the next period starts in the primary time zone', async () => {
      const q = quotas();
      const sched = await q.create({ name: 'monthly', allUsers: true, period: 'monthly', dayOfMonth: 31, mode: 'add', amount: 1000 });
      assert.deepEqual(q.nextRuns(sched, 3).map((ms) => new Date(ms).toISOString()), ['2026-03-30T23:00:00.000Z', '2026-04-29T23:00:00.000Z', '2026-05-30T23:00:00.000Z']);
    });
  });
});
