import assert from 'node:assert/strict';
import { describeOnEachDatabase } from '../../utils/databases';
import { servicesFor } from '../../utils/fixtures';
import { openDatabase, type Database } from '../../../primary/db/connection';
import { allocationKey, QuotaService, type QuotaServiceOptions } from '../../../primary/quotas/quota-service';
import type { Services } from '../../../primary/services';
import { MAX_AMOUNT } from '../../../common/money';

const t = (s: string): number => Date.parse(s);
const DAY = 86_400_000;

/** A promise and the function that resolves it: lets a test hold a run between two chunks. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

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
      const ids = await users({
        ann: { groups: ['students'] },
        bob: { groups: ['students'], balance: 50 },
        cat: {},
        dan: { groups: ['students'] },
        eve: { groups: ['students'], disabled: true },
      });
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
      assert.deepEqual(
        (await quotaRows()).map((r) => [r.account_id, Number(r.amount), Number(r.balance_after)]),
        [
          [ids.ann, 200, 200],
          [ids.bob, 100, 500],
          [ids.cat, 50, 500],
        ],
      );
      assert.deepEqual([run.users, run.total], [3, 350]);
    });

    it('pays nobody past the largest balance Quotient holds', async () => {
      const ids = await users({ ann: {}, rich: { balance: MAX_AMOUNT - 100 } });
      const q = quotas({ chunkSize: 1000 });
      await q.create({ name: 'daily', allUsers: true, period: 'daily', mode: 'add', amount: 200 });
      const run = await q.runNow('daily');
      assert.deepEqual([run.users, run.total], [1, 200]);
      assert.deepEqual(await balances(ids), { ann: 200, rich: MAX_AMOUNT - 100 });
      assert.deepEqual(
        (await quotaRows()).map((r) => r.account_id),
        [ids.ann],
      );
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
      assert.deepEqual(
        (await quotaRows()).map((r) => [r.account_id, Number(r.amount), Number(r.balance_after), r.type]),
        [
          [ids.ann, 300, 300, 'quota'],
          [ids.bob, -150, 300, 'quota'],
          [ids.dan, 400, 300, 'quota'],
        ],
      );
      assert.deepEqual([run.users, run.total], [3, 550]);
    });

    it('writes a chunk of many different amounts exactly, skipping one already in the ledger', async () => {
      const spec = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`u${i}`, { balance: 10 * (i + 1) }]));
      const ids = await users(spec);
      const q = quotas({ chunkSize: 1000 });
      const sched = await q.create({ name: 'time', allUsers: true, period: 'daily', mode: 'reset', amount: 300 });
      // u4 (balance 50) already has this period's allocation under its key: +250 to 300.
      await s.ledger.credit({ accountId: ids.u4!, amount: 250, type: 'quota', key: allocationKey(sched.id, t('2026-03-02T00:00:00Z'), ids.u4!) });
      const run = await q.runNow('time');
      assert.deepEqual([run.users, run.total], [9, 9 * 300 - (10 + 20 + 30 + 40 + 60 + 70 + 80 + 90 + 100)]);
      assert.deepEqual(
        Object.values(await balances(ids)),
        Array.from({ length: 10 }, () => 300),
      );
      assert.deepEqual(
        (await quotaRows()).filter((r) => r.reference === `quota-run:${run.id}`).map((r) => [r.account_id, Number(r.amount), Number(r.balance_after)]),
        [0, 1, 2, 3, 5, 6, 7, 8, 9].map((i) => [ids[`u${i}`], 300 - 10 * (i + 1), 300]),
      );
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
      assert.deepEqual(
        (await quotaRows()).map((r) => [r.account_id, Number(r.amount)]),
        [
          [ids.ann, -499],
          [ids.bob, 200],
        ],
      );
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
      assert.deepEqual(
        runs.map((r) => new Date(r.periodStart).toISOString()),
        ['2026-03-23T00:00:00.000Z'],
      );
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
      assert.deepEqual(
        (await q.runDue()).map((r) => [new Date(r.periodStart).toISOString(), r.state, r.reason, r.users, r.total]),
        [['2026-03-09T00:00:00.000Z', 'done', 'schedule', 2, 400]],
      );
      clock = t('2026-04-01T10:00:00Z'); // down for three Mondays (16, 23, 30 March; 30 March is in summer time)
      assert.deepEqual(
        (await q.runDue()).map((r) => [new Date(r.periodStart).toISOString(), r.reason, r.users]),
        [['2026-03-29T23:00:00.000Z', 'schedule', 2]],
      );
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
      assert.deepEqual(
        (await q.runDue()).map((r) => [new Date(r.periodStart).toISOString(), r.state, r.users]),
        [['2026-03-03T00:00:00.000Z', 'done', 1]],
      );
      assert.deepEqual(await balances(ids), { ann: 100 });
    });

    it('pays the current month even when it started before the catch-up window', async () => {
      const ids = await users({ ann: {} });
      const q = quotas({ catchUpDays: 7 });
      await q.create({ name: 'monthly', allUsers: true, period: 'monthly', dayOfMonth: 1, mode: 'add', amount: 1000 });
      clock = t('2026-05-20T12:00:00Z'); // down since March: April's period has ended, May's is current (1 May 00:00 BST)
      assert.deepEqual(
        (await q.runDue()).map((r) => [new Date(r.periodStart).toISOString(), r.reason, r.users]),
        [['2026-04-30T23:00:00.000Z', 'schedule', 1]],
      );
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
      assert.deepEqual(
        runs.map((r) => new Date(r.periodStart).toISOString()),
        ['2026-03-07T07:30:00.000Z', '2026-03-08T07:30:00.000Z', '2026-03-09T06:30:00.000Z'],
      );
    });
  });

  describe('timetables through runDue()', () => {
    /** Sets the clock and returns what runDue() ran then: [schedule, period start (UTC ISO)]. */
    async function at(q: QuotaService, iso: string): Promise<string[][]> {
      clock = t(iso);
      return (await q.runDue()).map((r) => [r.schedule, new Date(r.periodStart).toISOString()]);
    }

    it('pays a custom cron schedule (0 6 * * 1-5) on weekday mornings only', async () => {
      const ids = await users({ ann: {} });
      const q = quotas({ catchUpDays: 30 });
      await q.create({ name: 'weekdays', allUsers: true, period: 'cron', cron: '0 6 * * 1-5', mode: 'add', amount: 50 });
      assert.deepEqual(await at(q, '2026-03-03T05:59:59Z'), [], 'Tuesday before 06:00');
      assert.deepEqual(await at(q, '2026-03-03T06:00:00Z'), [['weekdays', '2026-03-03T06:00:00.000Z']]);
      assert.deepEqual(await at(q, '2026-03-03T18:00:00Z'), []);
      // Down from Tuesday evening to Monday 07:00: Wednesday to Friday and Monday, no weekend.
      assert.deepEqual(await at(q, '2026-03-09T07:00:00Z'), [
        ['weekdays', '2026-03-04T06:00:00.000Z'],
        ['weekdays', '2026-03-05T06:00:00.000Z'],
        ['weekdays', '2026-03-06T06:00:00.000Z'],
        ['weekdays', '2026-03-09T06:00:00.000Z'],
      ]);
      // Summer time in London from 29 March: 06:00 local is 05:00 UTC.
      assert.deepEqual(await at(q, '2026-03-30T05:00:01Z'), [
        ...['10', '11', '12', '13', '16', '17', '18', '19', '20', '23', '24', '25', '26', '27'].map((d) => ['weekdays', `2026-03-${d}T06:00:00.000Z`]),
        ['weekdays', '2026-03-30T05:00:00.000Z'],
      ]);
      assert.deepEqual(await balances(ids), { ann: 20 * 50 });
      assert.equal((await quotaRows()).length, 20);
    });

    it('pays a monthly schedule on the 31st on the last day of shorter months, once a month', async () => {
      clock = t('2028-01-15T12:00:00Z');
      const ids = await users({ ann: {} });
      const q = quotas();
      await q.create({ name: 'm31', allUsers: true, period: 'monthly', dayOfMonth: 31, mode: 'add', amount: 1000 });
      assert.deepEqual(await at(q, '2028-01-30T23:59:59Z'), []);
      assert.deepEqual(await at(q, '2028-01-31T00:00:30Z'), [['m31', '2028-01-31T00:00:00.000Z']]);
      assert.deepEqual(await at(q, '2028-02-28T23:59:59Z'), [], 'not on 28 February in a leap year');
      assert.deepEqual(await at(q, '2028-02-29T00:00:30Z'), [['m31', '2028-02-29T00:00:00.000Z']]);
      assert.deepEqual(await at(q, '2028-03-01T00:00:30Z'), [], 'February is paid once');
      // 31 March 00:00 BST (summer time from 26 March 2028) is 30 March 23:00 UTC.
      assert.deepEqual(await at(q, '2028-03-30T22:59:59Z'), []);
      assert.deepEqual(await at(q, '2028-03-30T23:00:30Z'), [['m31', '2028-03-30T23:00:00.000Z']]);
      assert.deepEqual(await at(q, '2028-04-29T23:00:30Z'), [['m31', '2028-04-29T23:00:00.000Z']], '30 April');
      assert.deepEqual(await at(q, '2028-05-01T12:00:00Z'), []);
      assert.deepEqual(await balances(ids), { ann: 4000 });
    });

    it('pays schedules on the 29th, 30th and 31st once each on 29 February 2028, and the 29th again on 29 March', async () => {
      clock = t('2028-02-01T12:00:00Z');
      const ids = await users({ ann: {} });
      const q = quotas();
      for (const day of [29, 30, 31]) await q.create({ name: `m${day}`, allUsers: true, period: 'monthly', dayOfMonth: day, mode: 'add', amount: day });
      assert.deepEqual(await at(q, '2028-02-28T23:59:59Z'), []);
      assert.deepEqual(await at(q, '2028-02-29T00:00:01Z'), [
        ['m29', '2028-02-29T00:00:00.000Z'],
        ['m30', '2028-02-29T00:00:00.000Z'],
        ['m31', '2028-02-29T00:00:00.000Z'],
      ]);
      assert.deepEqual(await at(q, '2028-02-29T23:59:59Z'), []);
      assert.deepEqual(await at(q, '2028-03-28T12:00:00Z'), [], 'no run on 1 March or in between');
      assert.deepEqual(await at(q, '2028-03-29T00:00:01Z'), [['m29', '2028-03-28T23:00:00.000Z']]);
      assert.deepEqual(await balances(ids), { ann: 29 + 30 + 31 + 29 });
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
      assert.deepEqual(
        resumed.map((r) => [r.state, r.users, r.total, r.chunks]),
        [['done', 7, 700, 4]],
      );
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

    it('lets only one of two primaries sharing the database do each run, in full chunks', async function () {
      this.timeout(60000);
      const names = Array.from({ length: 40 }, (_, i) => `user${i}`);
      const ids = await users(Object.fromEntries(names.map((n) => [n, {}])));
      // On SQLite both primaries share the one connection: better-sqlite3 is synchronous, so a
      // second connection in this same thread would wait out busy_timeout on a lock that only this
      // thread can release. Two primary processes on one file serialise on the file lock instead.
      const second: Database = tdb.dialect === 'sqlite' ? tdb.db : openDatabase(tdb.url, tdb.dataDir);
      try {
        const chunksBy = new Map<number, string[]>(); // run id -> the owner of each committed chunk, in order
        const record =
          (owner: string) =>
          ({ id }: { id: number }) =>
            void chunksBy.set(id, [...(chunksBy.get(id) ?? []), owner]);
        const a = quotas({ chunkSize: 3, catchUpDays: 30, afterChunk: record('primary-a') });
        const b = new QuotaService({
          db: second,
          now: () => clock,
          timezone: 'Europe/London',
          chunkSize: 3,
          owner: 'primary-b',
          catchUpDays: 30,
          afterChunk: record('primary-b'),
        });
        await a.create({ name: 'w1', allUsers: true, period: 'weekly', weekday: 1, mode: 'add', amount: 100 });
        await a.create({ name: 'd1', allUsers: true, period: 'daily', mode: 'add', amount: 10 });
        clock += 14 * DAY;
        const results = await Promise.all([a.runDue(), b.runDue(), a.runDue(), b.runDue()]);
        const finishedBy = new Map<number, number>();
        for (const run of results.flat()) finishedBy.set(run.id, (finishedBy.get(run.id) ?? 0) + 1);
        assert.equal(finishedBy.size, 2 + 14, 'every run is reported finished');
        assert.deepEqual([...new Set(finishedBy.values())], [1], 'each run is reported by exactly one call');
        assert.equal(chunksBy.size, 2 + 14);
        for (const [id, owners] of chunksBy) {
          assert.equal(owners.length, 14, `run ${id}: 14 chunks committed`);
          assert.equal(new Set(owners).size, 1, `run ${id}: every chunk by the primary holding the lease, got ${owners.join(' ')}`);
        }
        const history = await a.runs({ limit: 100 });
        // 40 users in chunks of 3: 13 full chunks and one of a single user, nobody's chunk done twice.
        assert.deepEqual(history.map((r) => [r.schedule, r.state, r.users, r.total, r.chunks]).sort(), [
          ...Array.from({ length: 14 }, () => ['d1', 'done', 40, 400, 14]),
          ['w1', 'done', 40, 4000, 14],
          ['w1', 'done', 40, 4000, 14],
        ]);
        for (const bal of Object.values(await balances(ids))) assert.equal(bal, 2 * 100 + 14 * 10);
        assert.equal((await quotaRows()).length, 40 * 16);
      } finally {
        if (second !== tdb.db) await second.close();
      }
    });

    it('gives nothing to a second primary while the first holds the lease mid-run, and fences the first off after a takeover', async function () {
      this.timeout(60000);
      const names = Array.from({ length: 10 }, (_, i) => `user${i}`);
      const ids = await users(Object.fromEntries(names.map((n) => [n, {}])));
      const second: Database = openDatabase(tdb.url, tdb.dataDir);
      try {
        const aStalled = deferred();
        const releaseA = deferred();
        const a = quotas({
          chunkSize: 3,
          afterChunk: async ({ chunk }) => {
            if (chunk !== 1) return;
            aStalled.resolve();
            await releaseA.promise; // A stalls between chunks, lease held, past its expiry
          },
        });
        const bStalled = deferred();
        const releaseB = deferred();
        let takeover = false; // B stalls only in the run it takes over, so a B that ran early fails the test at once
        const b = new QuotaService({
          db: second,
          now: () => clock,
          timezone: 'Europe/London',
          chunkSize: 3,
          owner: 'primary-b',
          afterChunk: async ({ chunk }) => {
            if (!takeover || chunk !== 1) return;
            bStalled.resolve();
            await releaseB.promise;
          },
        });
        await a.create({ name: 'daily', allUsers: true, period: 'daily', mode: 'add', amount: 100 });
        clock = t('2026-03-03T00:00:01Z');
        const aRun = a.runDue();
        await aStalled.promise;
        const [held] = await b.runs();
        assert.deepEqual([held?.state, held?.leaseOwner, held?.users, held?.chunks], ['running', 'primary-a', 3, 1]);

        assert.deepEqual(await b.runDue(), [], 'B gets nothing while A holds the lease');
        clock += 59_000;
        assert.deepEqual(await b.runDue(), [], 'nor one second before it expires');
        assert.equal((await quotaRows()).length, 3);

        clock += 2_000; // A's lease (60 s from its last chunk) has expired
        takeover = true;
        const bRun = b.runDue();
        await bStalled.promise;
        const [taken] = await b.runs();
        assert.deepEqual([taken?.leaseOwner, taken?.users, taken?.chunks], ['primary-b', 6, 2]);

        releaseA.resolve();
        assert.deepEqual(await aRun, [], 'A finds its lease gone and writes nothing more');
        assert.equal((await quotaRows()).length, 6);

        releaseB.resolve();
        assert.deepEqual(
          (await bRun).map((r) => [r.state, r.users, r.total, r.chunks, r.leaseOwner]),
          [['done', 10, 1000, 4, null]],
        );
        assert.deepEqual(
          Object.values(await balances(ids)),
          Array.from({ length: 10 }, () => 100),
        );
        const rows = await quotaRows();
        assert.equal(rows.length, 10);
        assert.equal(new Set(rows.map((r) => r.account_id)).size, 10);
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
      assert.deepEqual(
        q.nextRuns(sched, 3).map((ms) => new Date(ms).toISOString()),
        ['2026-03-30T23:00:00.000Z', '2026-04-29T23:00:00.000Z', '2026-05-30T23:00:00.000Z'],
      );
    });
  });
});
