import assert from 'node:assert/strict';
import { describeOnEachDatabase } from '../../utils/databases';
import { cliAgainst } from '../../utils/cli';
import { servicesFor } from '../../utils/fixtures';

/** Runs the real `quotient accounts ...` program in process (test/utils/cli.ts) against the test database. */
describeOnEachDatabase('quotient accounts (CLI)', (t) => {
  const { ok, fails } = cliAgainst(t);

  it('adds, grants, funds, shows and archives a shared account, and sets a user’s active account', async () => {
    const s = servicesFor(t.db);
    await s.users.createUser({ username: 'ann' });
    await s.groups.create({ name: 'physics' });
    assert.match(await ok('accounts', 'add', 'Science', '--code', 'sci'), /created account Science \(enabled\)\ncode SCI, PIN none/);
    assert.match(
      await ok(
        'accounts',
        'add',
        'Science\\Physics / "Lab"',
        '--code',
        'phy',
        '--pin',
        '0042',
        '--restricted',
        '--credit-limit',
        '5.00',
        '--multiplier',
        '1.5',
        '--expires',
        '2999-12-31',
      ),
      /account Science\\Physics \/ "Lab" \(enabled\)\ncode PHY, PIN set, multiplier 1\.5\nbalance \$0\.00, reserved \$0\.00, restricted, credit limit \$5\.00\nfrom - to 2999-12-31/,
    );
    assert.equal((await s.accounts.get('science\\physics / "lab"')).pin, '0042');
    assert.match(await ok('accounts', 'grant', 'Science\\Physics / "Lab"', '--group', 'physics'), /users: -; groups: physics/);
    assert.match(await ok('accounts', 'grant', 'Science', '--user', 'ann'), /users: ann; groups: -/);
    assert.match(await ok('accounts', 'adjust', 'Science', '50.00', '--comment', 'budget'), /Science: \$50\.00 → balance \$50\.00/);
    assert.match(await ok('accounts', 'set-balance', 'Science', '20.00', '--comment', 'trim'), /Science: -\$30\.00 → balance \$20\.00/);
    assert.match(await ok('accounts', 'list'), /^Science\s+SCI\s+\$20\.00\s+enabled$/m);
    const shown = JSON.parse(await ok('accounts', 'show', 'Science', '--json')) as { balance: number; access: unknown };
    assert.deepEqual([shown.balance, shown.access], [2000, { everyone: false, users: ['ann'], groups: [] }]);
    assert.match(await ok('accounts', 'active', 'ann'), /ann: account Science \(by default\)/);
    assert.match(await ok('accounts', 'active', 'ann', 'personal'), /ann: personal account$/m);
    assert.match(await ok('accounts', 'archive', 'Science'), /archived Science/);
    assert.match(await ok('accounts', 'list', '--archived'), /Science\s+SCI\s+\$20\.00\s+archived/);
    const ledger = await t.db
      .knex('ledger')
      .where({ account_id: (await s.accounts.get('Science')).id })
      .orderBy('id')
      .select('amount', 'balance_after');
    assert.deepEqual(
      ledger.map((r) => [Number(r.amount), Number(r.balance_after)]),
      [
        [5000, 5000],
        [-3000, 2000],
      ],
    );
    assert.deepEqual((await s.ledger.verify()).problems, []);
  });

  it('renames an account and moves it under another with its sub-accounts, refusing a name taken after case folding or under itself', async () => {
    const s = servicesFor(t.db);
    for (const name of ['Science', 'Physics', 'Physics\\Lab']) await ok('accounts', 'add', name);
    assert.equal(await ok('accounts', 'rename', 'physics', 'Science\\Physics'), 'renamed Physics to Science\\Physics\n');
    assert.deepEqual(
      (await s.accounts.list()).map((a) => [a.name, a.parent]),
      [
        ['Science', null],
        ['Science\\Physics', 'Science'],
        ['Science\\Physics\\Lab', 'Science\\Physics'],
      ],
    );
    await fails(/account already exists: Science/, 'accounts', 'rename', 'Science\\Physics\\Lab', 'SCIENCE');
    await fails(/cannot be moved under itself/, 'accounts', 'rename', 'Science', 'Science\\Physics\\Science');
    await fails(/empty level between backslashes/, 'accounts', 'rename', 'Science', 'Faculty\\');
    await fails(/account not found: Physics/, 'accounts', 'rename', 'Physics', 'Other');
    const audit = await t.db.knex('audit_log').where({ action: 'account.rename' }).select('actor', 'target_id', 'details');
    assert.deepEqual(
      audit.map((a: { target_id: string; details: string }) => [a.target_id, JSON.parse(a.details)]),
      [['Science\\Physics', { from: 'Physics', to: 'Science\\Physics', subAccounts: 1 }]],
    );
  });

  it('refuses bad input and changes nothing', async () => {
    const s = servicesFor(t.db);
    await ok('accounts', 'add', 'Science', '--code', 'SCI');
    await fails(/empty level between backslashes/, 'accounts', 'add', 'Science\\\\Physics');
    await fails(/empty level between backslashes/, 'accounts', 'add', '\\Physics');
    await fails(/parent account not found: Art/, 'accounts', 'add', 'Art\\Design');
    await fails(/longer than 255 characters/, 'accounts', 'add', 'x'.repeat(300));
    await fails(/account code already exists: SCI/, 'accounts', 'add', 'Other', '--code', 'sci');
    await fails(/account already exists: SCIENCE/, 'accounts', 'add', 'SCIENCE');
    await fails(/PIN must be 1 to 16 digits/, 'accounts', 'add', 'Other', '--pin', '12a');
    await fails(/expiry date is in the past/, 'accounts', 'add', 'Other', '--expires', '2020-01-01');
    await fails(/expires must be a date/, 'accounts', 'add', 'Other', '--expires', '2027-02-30');
    await fails(/decimal/, 'accounts', 'adjust', 'Science', '1.005', '--comment', 'x');
    await fails(/exactly one of --user, --group or --everyone/, 'accounts', 'grant', 'Science');
    assert.deepEqual(
      (await s.accounts.list()).map((a) => [a.name, a.balance]),
      [['Science', 0]],
    );
  });
});
