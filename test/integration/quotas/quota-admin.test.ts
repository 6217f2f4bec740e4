import assert from 'node:assert/strict';
import { describeOnEachDatabase } from '../../utils/databases';
import { createServices, type Services } from '../../../primary/services';
import { QuotaAdmin } from '../../../primary/quotas/quota-admin';
import type { ScheduleText } from '../../../primary/quotas/schedule-input';
import { quotaRefusal } from '../../../web-tools/routes/admin-quotas';

const KEY = 'form-key-0123456789ab';
const STUDENTS_WEEKLY: ScheduleText = { name: 'students-weekly', group: 'students', period: 'weekly', weekday: '1', at: '00:00', amount: '2.00', mode: 'add' };

describeOnEachDatabase('admin quota schedules (QuotaAdmin)', (t) => {
  let s: Services;
  let admin: QuotaAdmin;
  let clock: number;
  let accounts: Record<string, number>;

  const balance = async (username: string): Promise<number> => {
    const row = (await t.db.knex('accounts').where({ id: accounts[username] }).first('balance')) as { balance: number | string };
    return Number(row.balance);
  };
  const auditRows = async (): Promise<{ actor: string; action: string; target_type: string; target_id: string; details: Record<string, unknown> }[]> =>
    (
      (await t.db.knex('audit_log').where('action', 'like', 'quota.%').orderBy('id').select('actor', 'action', 'target_type', 'target_id', 'details')) as {
        actor: string;
        action: string;
        target_type: string;
        target_id: string;
        details: string;
      }[]
    ).map((r) => ({
      ...r,
      details: JSON.parse(r.details) as Record<string, unknown>,
    }));

  beforeEach(async () => {
    // Wednesday 2 December 2026, 12:00 UTC (07:00 in New York).
    clock = Date.UTC(2026, 11, 2, 12);
    s = createServices(t.db, { now: () => clock, timezone: 'America/New_York' });
    admin = new QuotaAdmin({ services: s, now: () => clock });
    accounts = {};
    for (const [username, initialCredit] of [
      ['ann', 1000],
      ['bob', 500],
      ['carol', 300],
    ] as const) {
      accounts[username] = (await s.users.createUser({ username, initialCredit })).account.id;
    }
    await s.groups.create({ name: 'students' });
    await s.groups.addMembers('students', ['ann', 'bob']);
  });

  describe('create()', () => {
    it('creates "$2.00 weekly on Monday for students" with its next run at Monday 00:00 in the primary\'s zone, audited', async () => {
      const q = await admin.create(STUDENTS_WEEKLY, KEY, 'admin');
      assert.deepEqual(
        {
          group: q.group,
          period: q.period,
          weekday: q.weekday,
          dayOfMonth: q.dayOfMonth,
          atTime: q.atTime,
          cron: q.cron,
          mode: q.mode,
          amount: q.amount,
          cap: q.cap,
          enabled: q.enabled,
        },
        { group: 'students', period: 'weekly', weekday: 1, dayOfMonth: null, atTime: '00:00', cron: null, mode: 'add', amount: 200, cap: null, enabled: true },
      );
      // Monday 7 December 00:00 EST is 05:00 UTC.
      assert.deepEqual(s.quotas.nextRuns(q, 2), [Date.UTC(2026, 11, 7, 5), Date.UTC(2026, 11, 14, 5)]);
      assert.deepEqual(await auditRows(), [
        {
          actor: 'admin',
          action: 'quota.create',
          target_type: 'quota_schedule',
          target_id: 'students-weekly',
          details: {
            formKey: KEY,
            group: 'students',
            period: 'weekly',
            weekday: 1,
            dayOfMonth: null,
            atTime: '00:00',
            cron: null,
            mode: 'add',
            amount: 200,
            cap: null,
            enabled: true,
          },
        },
      ]);
    });

    it('takes every option the CLI takes: all users, monthly on a day, custom cron, a cap, reset mode, switched off', async () => {
      const monthly = await admin.create(
        { name: 'net-monthly', allUsers: true, period: 'monthly', day: '31', at: '06:30', amount: '10', mode: 'add', cap: '25.50', disabled: true },
        'key-monthly-000000001',
        'admin',
      );
      assert.deepEqual(
        [monthly.group, monthly.dayOfMonth, monthly.atTime, monthly.amount, monthly.cap, monthly.enabled],
        [null, 31, '06:30', 1000, 2550, false],
      );
      const cron = await admin.create(
        { name: 'weekday-mornings', group: 'students', period: 'cron', cron: '0 6 * * 1-5', amount: '0.75', mode: 'reset' },
        'key-cron-00000000001',
        'admin',
      );
      assert.deepEqual([cron.cron, cron.mode, cron.amount], ['0 6 * * 1-5', 'reset', 75]);
      // Thursday 3 December 06:00 EST = 11:00 UTC.
      assert.deepEqual(s.quotas.nextRuns(cron, 1), [Date.UTC(2026, 11, 3, 11)]);
      const daily = await admin.create(
        { name: 'daily', group: 'students', period: 'daily', weekday: 'not used by daily', at: '23:15', amount: '0.10' },
        'key-daily-0000000001',
        'admin',
      );
      assert.deepEqual([daily.weekday, daily.atTime, daily.mode], [null, '23:15', 'add']);
    });

    it('changes nothing when the same form is posted twice, and refuses a second schedule of the same name', async () => {
      await admin.create(STUDENTS_WEEKLY, KEY, 'admin');
      const again = await admin.create(STUDENTS_WEEKLY, KEY, 'admin');
      assert.equal(again.name, 'students-weekly');
      await assert.rejects(admin.create(STUDENTS_WEEKLY, 'another-key-000000001', 'admin'), (err) => quotaRefusal(err) === 'quota.error.exists');
      assert.equal((await s.quotas.list()).length, 1);
      assert.deepEqual(
        (await auditRows()).map((r) => r.action),
        ['quota.create'],
      );
    });

    const refusals: [string, Partial<ScheduleText>, string][] = [
      ['a cron expression of four fields', { period: 'cron', cron: '0 6 * *' }, 'quota.error.cron'],
      ['a cron expression that does not parse', { period: 'cron', cron: '0 25 * * *' }, 'quota.error.cron'],
      ['a custom timetable without a cron expression', { period: 'cron', cron: '' }, 'quota.error.cron'],
      ['a negative amount', { amount: '-2.00' }, 'quota.error.amount'],
      ['an amount that is not a number', { amount: 'two dollars' }, 'quota.error.amount'],
      ['an amount with more decimals than the currency', { amount: '2.005' }, 'quota.error.amount'],
      ['a cap in reset mode', { mode: 'reset', cap: '10.00' }, 'quota.error.cap'],
      ['a weekly schedule without a weekday', { weekday: '' }, 'quota.error.weekday'],
      ['a monthly schedule on day 32', { period: 'monthly', day: '32' }, 'quota.error.day'],
      ['a time of day of 24:00', { at: '24:00' }, 'quota.error.at'],
      ['an unknown period', { period: 'fortnightly' }, 'quota.error.period'],
      ['an unknown mode', { mode: 'double' }, 'quota.error.mode'],
      ['an empty name', { name: '  ' }, 'quota.error.name'],
      ['a group that does not exist', { group: 'staff' }, 'quota.error.unknownGroup'],
      ['neither a group nor all users', { group: '' }, 'quota.error.group'],
    ];
    for (const [what, change, message] of refusals) {
      it(`refuses ${what} (${message}) and changes nothing`, async () => {
        await assert.rejects(admin.create({ ...STUDENTS_WEEKLY, ...change }, KEY, 'admin'), (err) => quotaRefusal(err) === message);
        assert.deepEqual(await s.quotas.list(), []);
        assert.deepEqual(await auditRows(), []);
      });
    }
  });

  describe('runNow()', () => {
    it('pays each student +$2.00 once for the current period; a second run pays nothing and is not audited again', async () => {
      await admin.create(STUDENTS_WEEKLY, KEY, 'admin');
      const first = await admin.runNow('students-weekly', 'run-key-000000000001', 'admin');
      // The period containing Wednesday 2 December started on Monday 30 November 00:00 EST.
      assert.deepEqual(
        [first.ran, first.run.periodStart, first.run.state, first.run.reason, first.run.users, first.run.total],
        [true, Date.UTC(2026, 10, 30, 5), 'done', 'manual', 2, 400],
      );
      assert.deepEqual([await balance('ann'), await balance('bob'), await balance('carol')], [1200, 700, 300]);
      clock += 60_000;
      const second = await admin.runNow('students-weekly', 'run-key-000000000002', 'admin');
      assert.deepEqual([second.ran, second.run.id, second.run.users, second.run.total], [false, first.run.id, 2, 400]);
      assert.deepEqual([await balance('ann'), await balance('bob'), await balance('carol')], [1200, 700, 300]);
      const quotaRows = (await t.db.knex('ledger').where({ type: 'quota' }).orderBy('account_id').select('account_id', 'amount', 'balance_after')) as {
        account_id: number;
        amount: number | string;
        balance_after: number | string;
      }[];
      assert.deepEqual(
        quotaRows.map((r) => [r.account_id, Number(r.amount), Number(r.balance_after)]),
        [
          [accounts.ann, 200, 1200],
          [accounts.bob, 200, 700],
        ],
      );
      const audits = await auditRows();
      assert.deepEqual(
        audits.map((r) => [r.action, r.target_id]),
        [
          ['quota.create', 'students-weekly'],
          ['quota.run', 'students-weekly'],
        ],
      );
      assert.deepEqual(audits[1]?.details, {
        formKey: 'run-key-000000000001',
        runId: first.run.id,
        periodStart: Date.UTC(2026, 10, 30, 5),
        state: 'done',
        users: 2,
        total: 400,
      });
      // The scheduler finds the period paid too.
      assert.deepEqual(await s.quotas.runDue(), []);
      assert.equal(await balance('ann'), 1200);
    });

    it('refuses an unknown schedule', async () => {
      await assert.rejects(admin.runNow('nothing', KEY, 'admin'), (err) => quotaRefusal(err) === 'quota.error.notFound');
    });
  });

  describe('setEnabled() and remove()', () => {
    it('disables and enables a schedule, audited only when it changes', async () => {
      await admin.create(STUDENTS_WEEKLY, KEY, 'admin');
      assert.equal((await admin.setEnabled('students-weekly', false, 'toggle-key-0000000001', 'admin')).enabled, false);
      assert.equal((await admin.setEnabled('students-weekly', false, 'toggle-key-0000000002', 'admin')).enabled, false);
      assert.equal((await s.quotas.get('students-weekly')).enabled, false);
      assert.equal((await admin.setEnabled('students-weekly', true, 'toggle-key-0000000003', 'admin')).enabled, true);
      assert.deepEqual(
        (await auditRows()).map((r) => [r.action, r.details.formKey]),
        [
          ['quota.create', KEY],
          ['quota.disable', 'toggle-key-0000000001'],
          ['quota.enable', 'toggle-key-0000000003'],
        ],
      );
    });

    it('removes a schedule and its runs but keeps the ledger rows it paid; the same form again is a no-op, another is refused', async () => {
      await admin.create(STUDENTS_WEEKLY, KEY, 'admin');
      await admin.runNow('students-weekly', 'run-key-000000000001', 'admin');
      await admin.remove('students-weekly', 'remove-key-000000001', 'admin');
      await admin.remove('students-weekly', 'remove-key-000000001', 'admin');
      await assert.rejects(admin.remove('students-weekly', 'remove-key-000000002', 'admin'), (err) => quotaRefusal(err) === 'quota.error.notFound');
      assert.deepEqual(await s.quotas.list(), []);
      assert.equal(Number(((await t.db.knex('quota_runs').count({ n: '*' }).first()) as { n: number | string }).n), 0);
      assert.equal(Number(((await t.db.knex('ledger').where({ type: 'quota' }).count({ n: '*' }).first()) as { n: number | string }).n), 2);
      const removed = (await auditRows()).filter((r) => r.action === 'quota.remove');
      assert.deepEqual(
        removed.map((r) => r.details),
        [{ formKey: 'remove-key-000000001', group: 'students', period: 'weekly', mode: 'add', amount: 200, cap: null }],
      );
    });
  });
});
