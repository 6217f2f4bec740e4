import assert from 'node:assert/strict';
import { describeOnEachDatabase } from '../../utils/databases';
import { cliAgainst } from '../../utils/cli';
import { jobDescription, servicesFor } from '../../utils/fixtures';

/** `quotient accounts add --model allocation`, `accounts overruns` and `quotas add --account`, in process on the test database. */
describeOnEachDatabase('quotient accounts: allocation accounts and account schedules (CLI)', (t) => {
  const { ok, fails } = cliAgainst(t);

  it('adds a soft-limited allocation account, pays it with its schedule, and lists who went past it', async () => {
    const s = servicesFor(t.db);
    await s.users.createUser({ username: 'ann' });
    await s.users.createUser({ username: 'bob' });
    const out = await ok('accounts', 'add', 'Lab', '--code', 'lab', '--model', 'allocation', '--allocation', '0.50', '--period', 'monthly', '--limit', 'soft');
    const id = (await s.accounts.get('Lab')).id;
    assert.match(
      out,
      new RegExp(`created account Lab \\(enabled\\)[^]*\\nallocation \\$0\\.50 per user, monthly, soft limit \\(schedule allocation:${id}\\)$`, 'm'),
    );
    await ok('accounts', 'grant', 'Lab', '--everyone');
    assert.match(await ok('quotas', 'list'), new RegExp(`^allocation:${id}\\s+each user of account Lab\\s+monthly`, 'm'));
    await ok('quotas', 'run-now', `allocation:${id}`);
    for (const pages of [3, 3])
      await s.printing.submit({ kind: 'authorize', secondary: 'print-1', job: jobDescription({ username: 'ann', pages, accountCode: 'LAB' }) });
    assert.match(await ok('accounts', 'overruns', 'Lab'), /^USER\s+BALANCE\s+RESERVED\s+OVERRUN\nann\s+\$0\.50\s+\$0\.60\s+\$0\.10$/m);
    assert.deepEqual(JSON.parse(await ok('accounts', 'overruns', 'Lab', '--json')), [{ username: 'ann', balance: 50, reserved: 60, overrun: 10 }]);
    await fails(/account Lab gives each user an allocation: it has no balance of its own to change/, 'accounts', 'adjust', 'Lab', '5.00', '--comment', 'x');
  });

  it('refuses an allocation account without an amount, with an unknown limit or model, and overruns of a shared balance', async () => {
    await fails(/an allocation account needs --allocation AMOUNT/, 'accounts', 'add', 'Lab', '--model', 'allocation');
    await fails(
      /limit must be unlimited, soft or hard, got "strict"/,
      'accounts',
      'add',
      'Lab',
      '--model',
      'allocation',
      '--allocation',
      '1.00',
      '--limit',
      'strict',
    );
    await fails(/model must be shared or allocation, got "pooled"/, 'accounts', 'add', 'Lab', '--model', 'pooled');
    await fails(/amount/, 'accounts', 'add', 'Lab', '--model', 'allocation', '--allocation', '1.005');
    await ok('accounts', 'add', 'Physics');
    await fails(/account Physics is not an allocation account/, 'accounts', 'overruns', 'Physics');
    assert.deepEqual(await servicesFor(t.db).accounts.list(), [await servicesFor(t.db).accounts.get('Physics')], 'nothing half-created');
  });

  it('changes the allocation, period and limit with set, shows them with show (and --json), and audits one row', async () => {
    const s = servicesFor(t.db);
    await ok('accounts', 'add', 'Lab', '--model', 'allocation', '--allocation', '50.00', '--period', 'monthly', '--limit', 'hard');
    const id = (await s.accounts.get('Lab')).id;
    const out = await ok('accounts', 'set', 'lab', '--allocation', '60.00', '--limit', 'soft', '--period', 'weekly', '--weekday', 'mon');
    assert.match(out, new RegExp(`^allocation \\$60\\.00 per user, weekly, soft limit \\(schedule allocation:${id}\\)$`, 'm'));
    assert.match(
      await ok('accounts', 'show', 'Lab'),
      new RegExp(`^account Lab \\(enabled\\)[^]*\\nallocation \\$60\\.00 per user, weekly, soft limit \\(schedule allocation:${id}\\)$`, 'm'),
    );
    const json = JSON.parse(await ok('accounts', 'show', 'Lab', '--json')) as { name: string; allocation: unknown };
    assert.deepEqual(
      [json.name, json.allocation],
      ['Lab', { amount: 6000, period: 'weekly', weekday: 1, dayOfMonth: null, atTime: '00:00', cron: null, limit: 'soft', schedule: `allocation:${id}` }],
    );
    const audit = (await t.db.knex('audit_log').where({ action: 'account.allocation', target_id: 'Lab' }).orderBy('id').pluck('details')) as string[];
    assert.deepEqual(JSON.parse(audit[1] ?? '{}'), {
      limit: 'soft',
      allocation: 6000,
      period: 'weekly',
      weekday: 1,
      dayOfMonth: null,
      atTime: '00:00',
      cron: null,
    });
    assert.equal(audit.length, 2);
    await ok('accounts', 'add', 'Physics');
    assert.equal(JSON.parse(await ok('accounts', 'show', 'Physics', '--json')).allocation, undefined, 'a shared balance account has no allocation');
    await fails(/account Physics is not an allocation account/, 'accounts', 'set', 'Physics', '--allocation', '1.00');
    await fails(/period must be daily, weekly, monthly or cron, got "yearly"/, 'accounts', 'set', 'Lab', '--period', 'yearly');
    await fails(/nothing to change/, 'accounts', 'set', 'Lab');
  });

  it('refuses a quota schedule named allocation:… so that an allocation account can always make its own', async () => {
    await fails(
      /schedule names starting with "allocation:" are kept for allocation accounts/,
      'quotas',
      'add',
      'Allocation:1',
      '--all-users',
      '--period',
      'daily',
      '--amount',
      '1.00',
    );
    assert.match(await ok('accounts', 'add', 'Lab', '--model', 'allocation', '--allocation', '1.00'), /schedule allocation:\d+\)$/m);
  });

  it('adds a quota schedule for a shared account with --account', async () => {
    await ok('accounts', 'add', 'Physics');
    assert.match(
      await ok('quotas', 'add', 'physics-budget', '--account', 'physics', '--period', 'monthly', '--day', '1', '--amount', '20.00', '--mode', 'reset'),
      /created quota schedule physics-budget: reset to \$20\.00 for account Physics, monthly/,
    );
    await ok('quotas', 'run-now', 'physics-budget');
    assert.equal((await servicesFor(t.db).accounts.get('Physics')).balance, 2000);
    await fails(
      /give either a group or all users, or an account/,
      'quotas',
      'add',
      'both',
      '--account',
      'Physics',
      '--all-users',
      '--period',
      'daily',
      '--amount',
      '1.00',
    );
  });
});
