import assert from 'node:assert/strict';
import { describeOnEachDatabase } from '../../utils/databases';
import { accountFor, jobDescription } from '../../utils/fixtures';
import { allocationScheduleName } from '../../../primary/accounts/allocations';
import { listAudit } from '../../../primary/audit/audit-log';
import { createServices, type Services } from '../../../primary/services';

const ACTOR = 'cli:admin';
const MONTHLY = { period: 'monthly' as const, weekday: null, dayOfMonth: 1, atTime: '00:00', cron: null };

/** What administrators change on an account after making it: its name and place in the hierarchy, an allocation account's allocation, period and limit. */
describeOnEachDatabase('changing accounts after they are made', (t) => {
  let s: Services;
  let clock: number;
  beforeEach(async () => {
    clock = Date.UTC(2027, 5, 10, 12);
    s = createServices(t.db, { now: () => clock, timezone: 'UTC' });
    for (const username of ['ann', 'bob']) await accountFor(s, { username, initialCredit: 0 });
  });

  const names = async (): Promise<[string, string | null][]> =>
    (
      (await t.db
        .knex('accounts as a')
        .leftJoin('accounts as p', 'p.id', 'a.parent_id')
        .where('a.type', 'shared')
        .orderBy('a.id')
        .select('a.name', 'p.name as parent')) as {
        name: string;
        parent: string | null;
      }[]
    ).map((r) => [r.name, r.parent]);

  describe('rename()', () => {
    beforeEach(async () => {
      for (const name of ['Science', 'Physics', 'Physics\\Lab', 'Physics\\Lab\\Bench']) await s.accounts.create({ name }, ACTOR);
      await s.accounts.update('Physics', { code: 'PHY' }, ACTOR);
      await s.balances.adjust({ accountId: (await s.accounts.get('Physics')).id, amount: 1000, comment: 'budget', key: 'test:fund', actor: ACTOR });
      await s.accounts.grant('Physics', { user: 'ann' }, ACTOR);
    });

    it('moves an account under a new parent with its sub-accounts; jobs, ledger rows and the active choice keep it by id; one audit row', async () => {
      const id = (await s.accounts.get('Physics')).id;
      await s.accounts.setActive('ann', 'Physics', ACTOR);
      const job = jobDescription({ username: 'ann', pages: 3, accountCode: 'PHY' });
      const answer = await s.printing.submit({ kind: 'authorize', secondary: 'print-1', job });
      assert.equal(answer.kind === 'authorized' && answer.allowed, true);
      assert.equal((await s.printing.submit({ kind: 'commit', secondary: 'print-1', jobId: job.jobId })).kind, 'committed');

      const moved = await s.accounts.rename('physics', ' Science \\ Physics ', 'web:root');
      assert.deepEqual([moved.id, moved.name, moved.parent, moved.balance], [id, 'Science\\Physics', 'Science', 970]);
      assert.deepEqual(await names(), [
        ['Science', null],
        ['Science\\Physics', 'Science'],
        ['Science\\Physics\\Lab', 'Science\\Physics'],
        ['Science\\Physics\\Lab\\Bench', 'Science\\Physics\\Lab'],
      ]);
      await assert.rejects(s.accounts.get('Physics'), { code: 'NOT_FOUND' });
      assert.equal((await s.accounts.get('science\\physics\\lab')).parent, 'Science\\Physics');
      assert.deepEqual(
        ((await t.db.knex('print_jobs').where({ job_uuid: job.jobId }).first('account_id', 'cost')) as { account_id: number; cost: number | string })
          .account_id,
        id,
      );
      assert.deepEqual(
        (
          (await t.db.knex('ledger').where({ account_id: id }).orderBy('id').select('amount', 'balance_after')) as {
            amount: number | string;
            balance_after: number | string;
          }[]
        ).map((r) => [Number(r.amount), Number(r.balance_after)]),
        [
          [1000, 1000],
          [-30, 970],
        ],
      );
      assert.deepEqual(await s.accounts.active('ann'), { id, type: 'shared', name: 'Science\\Physics', code: 'PHY', chosen: true });
      const audit = (await listAudit(t.db.knex, { targetType: 'account' })).filter((a) => a.action === 'account.rename');
      assert.deepEqual(
        audit.map((a) => [a.actor, a.targetId, a.details]),
        [['web:root', 'Science\\Physics', { from: 'Physics', to: 'Science\\Physics', subAccounts: 2 }]],
      );
      assert.deepEqual((await s.ledger.verify()).problems, []);
    });

    it('renames to the top level and changes only the case of a name', async () => {
      await s.accounts.rename('Physics\\Lab', 'Labs', ACTOR);
      await s.accounts.rename('labs', 'LABS', ACTOR);
      assert.deepEqual(await names(), [
        ['Science', null],
        ['Physics', null],
        ['LABS', null],
        ['LABS\\Bench', 'LABS'],
      ]);
    });

    it('refuses a name taken after case folding, an empty level, more than 255 characters, a missing parent and an account under itself, changing nothing', async () => {
      const before = await names();
      const refused: [string, string, RegExp][] = [
        ['Physics', 'SCIENCE', /account already exists: Science|Science/],
        ['Science', 'physics\\LAB', /Physics\\Lab/],
        ['Physics', 'Science\\\\Physics', /empty level/],
        ['Physics', 'Physics\\', /empty level/],
        ['Physics', 'x'.repeat(256), /longer than 255/],
        ['Physics', 'x'.repeat(246), new RegExp(`name x{246}\\\\Lab\\\\Bench is longer than 255`)],
        ['Physics', 'Art\\Physics', /parent account/],
        ['Physics', 'Physics\\Lab\\Physics', /cannot be moved under itself/],
        ['Physics', 'PHYSICS\\Other', /cannot be moved under itself/],
        ['Physics', 'Physics', /already has that name/],
      ];
      for (const [from, to, message] of refused) await assert.rejects(s.accounts.rename(from, to, ACTOR), { message }, `${from} -> ${to}`);
      await assert.rejects(s.accounts.rename('Physics', 'SCIENCE', ACTOR), { code: 'ALREADY_EXISTS' });
      assert.deepEqual(await names(), before);
      assert.equal((await listAudit(t.db.knex, { targetType: 'account' })).filter((a) => a.action === 'account.rename').length, 0);
    });
  });

  describe('Allocations.change()', () => {
    /** Lab: 5.00 a month on the 1st, hard limit, everyone listed; made on 20 May, the June period paid; now 10 June. */
    const lab = async (): Promise<number> => {
      clock = Date.UTC(2027, 4, 20, 12);
      const account = await s.allocations.create({ name: 'Lab', code: 'LAB', limit: 'hard', schedule: { ...MONTHLY, amount: 500 } }, ACTOR);
      await s.accounts.grant('Lab', { everyone: true }, ACTOR);
      clock = Date.UTC(2027, 5, 10, 12);
      const [run] = await s.quotas.runDue();
      assert.deepEqual([run?.users, run?.total, new Date(run?.periodStart ?? 0).toISOString()], [2, 1000, '2027-06-01T00:00:00.000Z']);
      return account.id;
    };
    const balances = async (): Promise<[string, number][]> => (await s.allocations.balances('Lab')).map((b) => [b.username, b.balance]);
    const quotaRows = async (id: number): Promise<number> =>
      Number(
        (
          (await t.db
            .knex('ledger as l')
            .join('accounts as p', 'p.id', 'l.account_id')
            .where({ 'p.parent_id': id, 'l.type': 'quota' })
            .count({ n: '*' })
            .first()) as { n: number | string }
        ).n,
      );

    it('pays the new allocation from the next period, not again for the period already paid, and says so in one audit row', async () => {
      const id = await lab();
      const changed = await s.allocations.change('lab', { schedule: { amount: 600 } }, 'web:root');
      assert.deepEqual([changed.schedule.amount, changed.schedule.period, changed.schedule.dayOfMonth, changed.limit], [600, 'monthly', 1, 'hard']);
      assert.deepEqual(await s.quotas.runDue(), []);
      assert.equal((await s.quotas.runNow(allocationScheduleName(id))).total, 1000, 'run-now finds June already paid');
      assert.deepEqual(await balances(), [
        ['ann', 500],
        ['bob', 500],
      ]);
      clock = Date.UTC(2027, 6, 1, 0, 30);
      const [july] = await s.quotas.runDue();
      assert.deepEqual([july?.users, july?.total], [2, 200], 'reset to 6.00 from 5.00: 1.00 each');
      assert.deepEqual(await balances(), [
        ['ann', 600],
        ['bob', 600],
      ]);
      assert.equal(await quotaRows(id), 4);
      const audit = (await listAudit(t.db.knex, { targetType: 'account' })).filter((a) => a.action === 'account.allocation');
      assert.deepEqual(
        audit.map((a) => [a.actor, a.targetId, a.details]),
        [
          ['web:root', 'Lab', { allocation: 600 }],
          [ACTOR, 'Lab', { limit: 'hard', allocation: 500, period: 'monthly', schedule: `allocation:${id}` }],
        ],
      );
      assert.deepEqual((await s.ledger.verify()).problems, []);
    });

    it('a new period starts with its first period after the change: the one under way is recorded as skipped, not paid', async () => {
      const id = await lab();
      await s.allocations.change('Lab', { schedule: { period: 'weekly', weekday: 1, amount: 800 } }, ACTOR);
      assert.deepEqual(await s.quotas.runDue(), [], 'the week of Monday 7 June began before the change');
      const runs = await s.quotas.runs({ schedule: allocationScheduleName(id) });
      assert.deepEqual(
        runs.map((r) => [new Date(r.periodStart).toISOString(), r.state]),
        [
          ['2027-06-07T00:00:00.000Z', 'skipped'],
          ['2027-06-01T00:00:00.000Z', 'done'],
        ],
      );
      clock = Date.UTC(2027, 5, 14, 1);
      const [week] = await s.quotas.runDue();
      assert.deepEqual([new Date(week?.periodStart ?? 0).toISOString(), week?.total], ['2027-06-14T00:00:00.000Z', 600], 'reset to 8.00 from 5.00: 3.00 each');
      assert.equal(await quotaRows(id), 4);
    });

    it('a day of the month still ahead pays the new allocation on that day, and an unchanged value changes nothing', async () => {
      const id = await lab();
      const same = await s.allocations.change('Lab', { limit: 'hard', schedule: { amount: 500, period: 'monthly', dayOfMonth: 1 } }, ACTOR);
      assert.equal(same.schedule.amount, 500);
      assert.equal((await listAudit(t.db.knex, { targetType: 'account' })).filter((a) => a.action === 'account.allocation').length, 1, 'only the creation');
      await s.allocations.change('Lab', { schedule: { dayOfMonth: 15, amount: 700 } }, ACTOR);
      assert.deepEqual(await s.quotas.runDue(), [], 'the period that began on 15 May is before June 1st, already paid');
      clock = Date.UTC(2027, 5, 15, 0, 5);
      const [mid] = await s.quotas.runDue();
      assert.deepEqual([new Date(mid?.periodStart ?? 0).toISOString(), mid?.total], ['2027-06-15T00:00:00.000Z', 400]);
      assert.deepEqual(await balances(), [
        ['ann', 700],
        ['bob', 700],
      ]);
      assert.equal(await quotaRows(id), 4);
    });

    it('a new limit applies to every balance on the account at once: soft lets a job past the allocation, hard again denies it', async () => {
      await lab();
      const print = async (pages: number): Promise<[boolean, string]> => {
        const o = await s.printing.submit({ kind: 'authorize', secondary: 'print-1', job: jobDescription({ username: 'ann', pages, accountCode: 'LAB' }) });
        return o.kind === 'authorized' ? [o.allowed, o.reason] : [false, o.kind];
      };
      assert.deepEqual(await print(60), [false, 'your allocation in account Lab is used up: this job costs $6.00 and you have $5.00 left']);
      assert.equal((await s.allocations.change('Lab', { limit: 'soft' }, ACTOR)).limit, 'soft');
      assert.deepEqual(await print(60), [true, 'warning: this job takes you $1.00 past your allocation in account Lab']);
      await s.allocations.change('Lab', { limit: 'hard' }, ACTOR);
      assert.deepEqual(await print(1), [false, 'your allocation in account Lab is used up: this job costs $0.10 and you have $0.00 left']);
      const restricted = (await t.db.knex('accounts').where({ type: 'allocation' }).pluck('restricted')) as (number | boolean)[];
      assert.deepEqual(restricted.map(Boolean), [true, true]);
    });

    it('refuses a shared balance account, nothing to change, a bad period and a negative allocation', async () => {
      await lab();
      await s.accounts.create({ name: 'Physics' }, ACTOR);
      await assert.rejects(s.allocations.change('Physics', { limit: 'soft' }, ACTOR), { message: 'account Physics is not an allocation account' });
      await assert.rejects(s.allocations.change('Lab', {}, ACTOR), { message: 'nothing to change' });
      await assert.rejects(s.allocations.change('Lab', { schedule: { period: 'weekly' } }, ACTOR), { message: /weekday/ });
      await assert.rejects(s.allocations.change('Lab', { schedule: { amount: -1 } }, ACTOR), { message: /amount/ });
      assert.deepEqual([(await s.allocations.get('Lab')).schedule.amount, (await s.allocations.get('Lab')).schedule.period], [500, 'monthly']);
    });
  });
});
