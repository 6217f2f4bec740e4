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
