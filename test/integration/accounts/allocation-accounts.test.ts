import assert from 'node:assert/strict';
import { describeOnEachDatabase } from '../../utils/databases';
import { accountFor, jobDescription, servicesFor } from '../../utils/fixtures';
import { allocationScheduleName, type AllocationLimit } from '../../../primary/accounts/allocations';
import { allocationKey } from '../../../primary/quotas/quota-service';
import type { Services } from '../../../primary/services';

const ACTOR = 'cli:admin';
const MONTHLY = { period: 'monthly' as const, weekday: null, dayOfMonth: 1, atTime: '00:00', cron: null };

interface LedgerRow {
  account_id: number;
  amount: number | string;
  balance_after: number | string;
  type: string;
  idempotency_key: string;
}

describeOnEachDatabase('per-user allocation accounts', (t) => {
  let s: Services;
  beforeEach(async () => {
    s = servicesFor(t.db);
    for (const username of ['ann', 'bob', 'cat']) await accountFor(s, { username, initialCredit: 0 });
  });

  /** An allocation account Lab (code LAB) giving `amount` a month, with ann and bob listed. */
  const lab = async (amount: number, limit: AllocationLimit): Promise<number> => {
    const account = await s.allocations.create({ name: 'Lab', code: 'LAB', limit, schedule: { ...MONTHLY, amount } }, ACTOR);
    await s.accounts.grant('Lab', { user: 'ann' }, ACTOR);
    await s.accounts.grant('Lab', { user: 'bob' }, ACTOR);
    return account.id;
  };
  const pairOf = async (accountId: number, username: string): Promise<number | undefined> => {
    const row = (await t.db
      .knex('accounts as p')
      .join('users as u', 'u.id', 'p.member_user_id')
      .where({ 'p.parent_id': accountId, 'u.username': username })
      .first('p.id')) as { id: number } | undefined;
    return row?.id;
  };
  const money = async (accountId: number): Promise<[number, number]> => {
    const a = await s.ledger.getAccount(accountId);
    return [a.balance, a.reserved];
  };
  const ledgerOf = async (accountId: number): Promise<[number, number, string, string][]> =>
    ((await t.db.knex('ledger').where({ account_id: accountId }).orderBy('id')) as LedgerRow[]).map((r) => [
      Number(r.amount),
      Number(r.balance_after),
      r.type,
      r.idempotency_key,
    ]);
  const print = (username: string, pages: number) =>
    s.printing.submit({ kind: 'authorize', secondary: 'print-1', job: jobDescription({ username, pages, accountCode: 'LAB' }) });
  const answer = async (username: string, pages: number): Promise<[boolean, string]> => {
    const o = await print(username, pages);
    if (o.kind !== 'authorized') assert.fail(`expected an authorisation answer, got ${o.kind}`);
    return [o.allowed, o.reason];
  };

  it('grants the allocation once per period: two runs for the same period write one quota row per user with access', async () => {
    const id = await lab(500, 'hard');
    const schedule = allocationScheduleName(id);
    const first = await s.quotas.runNow(schedule);
    const second = await s.quotas.runNow(schedule);
    assert.deepEqual([second.id, second.state, second.users, second.total], [first.id, 'done', 2, 1000]);
    assert.deepEqual(await s.quotas.runDue(), []);
    const [ann, bob, cat] = [await pairOf(id, 'ann'), await pairOf(id, 'bob'), await pairOf(id, 'cat')];
    assert.equal(cat, undefined, 'cat has no access, so no balance on Lab');
    for (const pair of [ann ?? 0, bob ?? 0])
      assert.deepEqual(await ledgerOf(pair), [[500, 500, 'quota', allocationKey(first.scheduleId, first.periodStart, pair)]]);
    assert.deepEqual(await money(id), [0, 0], 'the account itself holds nothing');
    assert.deepEqual((await s.ledger.verify()).problems, []);
  });

  it('a hard limit denies the job that would take the user past the allocation, with the reason, and charges their own balance', async () => {
    const id = await lab(100, 'hard');
    await s.quotas.runNow(allocationScheduleName(id));
    const answers = [await answer('ann', 3), await answer('ann', 3), await answer('ann', 3), await answer('ann', 3)];
    assert.deepEqual(answers, [
      [true, ''],
      [true, ''],
      [true, ''],
      [false, 'your allocation in account Lab is used up: this job costs $0.30 and you have $0.10 left'],
    ]);
    assert.deepEqual(await money((await pairOf(id, 'ann')) ?? 0), [100, 90]);
    assert.deepEqual(await money((await pairOf(id, 'bob')) ?? 0), [100, 0], "bob's allocation is his own");
    assert.deepEqual(await answer('bob', 3), [true, '']);
  });

  it('a soft limit allows the job past the allocation with a warning, and overruns lists who went past it and by how much', async () => {
    const id = await lab(50, 'soft');
    await s.quotas.runNow(allocationScheduleName(id));
    assert.deepEqual(await answer('ann', 3), [true, '']);
    assert.deepEqual(await answer('ann', 3), [true, 'warning: this job takes you $0.10 past your allocation in account Lab']);
    assert.deepEqual(await answer('bob', 1), [true, '']);
    assert.deepEqual(await s.allocations.overruns('lab'), [{ username: 'ann', balance: 50, reserved: 60, overrun: 10 }]);
    assert.deepEqual(
      (await s.allocations.balances('Lab')).map((b) => [b.username, b.balance, b.reserved, b.overrun]),
      [
        ['ann', 50, 60, 10],
        ['bob', 50, 10, 0],
      ],
    );
  });

  it("a user's first job makes their balance: nothing before the first run, the latest period's allocation after it, once", async () => {
    const id = await lab(100, 'hard');
    assert.deepEqual(await answer('ann', 1), [false, 'your allocation in account Lab is used up: this job costs $0.10 and you have $0.00 left']);
    const ann = (await pairOf(id, 'ann')) ?? 0;
    assert.deepEqual(await ledgerOf(ann), []);
    const run = await s.quotas.runNow(allocationScheduleName(id));
    assert.deepEqual([run.users, run.total], [2, 200]);
    await s.accounts.grant('Lab', { user: 'cat' }, ACTOR);
    assert.deepEqual(await answer('cat', 1), [true, '']);
    const cat = (await pairOf(id, 'cat')) ?? 0;
    assert.deepEqual(await ledgerOf(cat), [[100, 100, 'quota', allocationKey(run.scheduleId, run.periodStart, cat)]]);
    await s.quotas.runNow(allocationScheduleName(id));
    assert.deepEqual(await money(cat), [100, 10], 'the period pays cat once');
    assert.deepEqual((await s.ledger.verify()).problems, []);
  });

  it('200 concurrent reservations against one hard-limited allocation never take it below zero: 100 allowed, 100 denied', async () => {
    const id = await lab(1000, 'hard');
    await s.quotas.runNow(allocationScheduleName(id));
    const outcomes = await Promise.all(Array.from({ length: 200 }, () => print('ann', 1)));
    const allowed = outcomes.filter((o) => o.kind === 'authorized' && o.allowed).length;
    assert.deepEqual([allowed, outcomes.length - allowed], [100, 100]);
    const ann = (await pairOf(id, 'ann')) ?? 0;
    assert.deepEqual(await money(ann), [1000, 1000]);
    assert.equal(Number((await t.db.knex('reservations').where({ account_id: ann, state: 'held' }).sum({ n: 'amount' }).first())?.n), 1000);
    assert.deepEqual((await s.ledger.verify()).problems, []);
  });
});

describeOnEachDatabase('quota schedules for shared accounts', (t) => {
  let s: Services;
  beforeEach(() => {
    s = servicesFor(t.db);
  });
  const rows = async (accountId: number): Promise<[number, number, string][]> =>
    ((await t.db.knex('ledger').where({ account_id: accountId }).orderBy('id')) as LedgerRow[]).map((r) => [Number(r.amount), Number(r.balance_after), r.type]);

  it('add mode adds the amount to the account once per period', async () => {
    const dept = await s.accounts.create({ name: 'Physics' }, ACTOR);
    await s.balances.adjust({ accountId: dept.id, amount: 250, comment: 'start', key: 'test:start', actor: ACTOR });
    const schedule = await s.quotas.create({ name: 'physics-budget', account: 'physics', ...MONTHLY, mode: 'add', amount: 5000 });
    assert.deepEqual([schedule.account, schedule.target, schedule.group], ['Physics', 'account', null]);
    const first = await s.quotas.runNow('physics-budget');
    await s.quotas.runNow('physics-budget');
    assert.deepEqual([first.users, first.total], [1, 5000]);
    assert.deepEqual(await rows(dept.id), [
      [250, 250, 'adjustment'],
      [5000, 5250, 'quota'],
    ]);
    assert.deepEqual((await s.ledger.verify()).problems, []);
  });

  it('reset mode sets the balance to the amount once per period, and leaves personal accounts alone', async () => {
    const ann = await accountFor(s, { username: 'ann', initialCredit: 0 });
    const dept = await s.accounts.create({ name: 'Chemistry' }, ACTOR);
    await s.balances.adjust({ accountId: dept.id, amount: 1234, comment: 'start', key: 'test:start', actor: ACTOR });
    await s.quotas.create({ name: 'chem-budget', account: 'Chemistry', ...MONTHLY, mode: 'reset', amount: 2000 });
    await s.quotas.runNow('chem-budget');
    await s.quotas.runNow('chem-budget');
    assert.deepEqual(await rows(dept.id), [
      [1234, 1234, 'adjustment'],
      [766, 2000, 'quota'],
    ]);
    assert.deepEqual(await rows(ann), []);
  });

  it('refuses a schedule for an unknown account, or for an account and a group at once', async () => {
    await assert.rejects(s.quotas.create({ name: 'x', account: 'Nowhere', ...MONTHLY, mode: 'add', amount: 1 }), /account not found|Nowhere/);
    await assert.rejects(
      s.quotas.create({ name: 'y', account: 'Nowhere', allUsers: true, ...MONTHLY, mode: 'add', amount: 1 }),
      /give either a group or all users, or an account/,
    );
  });
});
