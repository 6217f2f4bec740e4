/**
 * `quotient accounts import FILE [--dry-run]` run in process on each dialect: a file of shared
 * accounts with their access is imported whole or not at all; each broken row is named by its
 * line with the reason `accounts add` and `grant` give; a dry run writes nothing.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { cliAgainst } from '../../utils/cli';
import { describeOnEachDatabase } from '../../utils/databases';
import { servicesFor } from '../../utils/fixtures';

describeOnEachDatabase('quotient accounts import', (t) => {
  const { ok, cli } = cliAgainst(t);
  const csv = (): string => path.join(t.dataDir, 'accounts.csv');
  const write = (lines: string[]): void => fs.writeFileSync(csv(), lines.join('\n') + '\n');
  const state = async (): Promise<{ accounts: number; access: number; audit: number }> => {
    const count = async (table: string): Promise<number> => Number(((await t.db.knex(table).count({ n: '*' })) as { n: number }[])[0]?.n);
    return {
      accounts: Number(((await t.db.knex('accounts').where({ type: 'shared' }).count({ n: '*' })) as { n: number }[])[0]?.n),
      access: (await count('account_users')) + (await count('account_groups')),
      audit: Number(((await t.db.knex('audit_log').where('action', 'like', 'account.%').count({ n: '*' })) as { n: number }[])[0]?.n),
    };
  };

  afterEach(() => fs.rmSync(csv(), { force: true }));

  it('creates accounts with their settings and access in one go, a child before its parent in the file included', async () => {
    const s = servicesFor(t.db);
    await s.users.createUser({ username: 'ann' });
    await s.users.createUser({ username: 'bob' });
    await s.groups.create({ name: 'physics' });
    write([
      'Name,Code,PIN,Restricted,Credit Limit,Multiplier,Starts,Expires,Notes,Users,Groups,Everyone',
      '"Science\\Physics / ""Lab""",phy,0042,yes,5.00,1.5,,2999-12-31,"grant 7, ""quantum""",ANN; bob,physics,',
      'Science,sci,,,,,,,,,,',
      'Library,lib,,no,,0.5,2026-01-01,,,,,yes',
    ]);
    assert.equal(await ok('accounts', 'import', csv(), '--dry-run'), 'dry run: would import 3 account(s) with 4 grant(s) of access; nothing written\n');
    assert.deepEqual(await state(), { accounts: 0, access: 0, audit: 0 });

    assert.equal(await ok('accounts', 'import', csv()), 'imported 3 account(s) with 4 grant(s) of access\n');
    const lab = await s.accounts.get('science\\physics / "lab"');
    assert.deepEqual(
      [lab.name, lab.parent, lab.code, lab.pin, lab.restricted, lab.creditLimit, lab.multiplierBp, lab.expiresAt, lab.notes],
      ['Science\\Physics / "Lab"', 'Science', 'PHY', '0042', true, 500, 15000, Date.UTC(3000, 0, 1), 'grant 7, "quantum"'],
    );
    assert.deepEqual(await s.accounts.access('Science\\Physics / "Lab"'), { everyone: false, users: ['ann', 'bob'], groups: ['physics'] });
    const library = await s.accounts.get('Library');
    assert.deepEqual(
      [library.code, library.restricted, library.multiplierBp, library.startsAt, library.everyone],
      ['LIB', false, 5000, Date.UTC(2026, 0, 1), true],
    );
    assert.deepEqual(
      (await s.accounts.list()).map((a) => [a.name, a.code, a.balance]),
      [
        ['Library', 'LIB', 0],
        ['Science', 'SCI', 0],
        ['Science\\Physics / "Lab"', 'PHY', 0],
      ],
    );
    // One audit row per account and per grant, as `accounts add` and `grant` write them.
    assert.deepEqual(await state(), { accounts: 3, access: 3, audit: 7 });
  });

  it('refuses every broken row by its line number and imports nothing', async () => {
    const s = servicesFor(t.db);
    await s.users.createUser({ username: 'ann' });
    await s.accounts.create({ name: 'Existing', code: 'OLD' }, 'test');
    const before = await state();
    write([
      'name,code,pin,credit_limit,expires,users,groups,multiplier',
      'Good,good,0007,,,ann,,',
      'Back\\\\slash,,,,,,,',
      'x'.repeat(300) + ',,,,,,,',
      'Orphan\\Child,,,,,,,',
      'Second,GOOD,,,,,,',
      'Clash,old,,,,,,',
      'Past,,,,2020-01-01,,,',
      'Pennies,,,1.005,,,,',
      'Strangers,,,,,nobody,,',
      'Cliques,,,,,,nosuchgroup,',
      'Pin,,12a,,,,,',
      'Times,,,,,,,1.23456',
      'existing,,,,,,,',
      'GOOD,,,,,,,',
      '"unclosed,,,,,,,',
    ]);
    const r = await cli('accounts', 'import', csv());
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      [
        'line 3: name must not be empty, nor have an empty level between backslashes',
        'line 4: name is longer than 255 characters',
        'line 5: parent account not found: Orphan',
        'line 6: the same code as line 2 (codes are compared in capitals)',
        'line 7: account code already exists: OLD',
        'line 8: the expiry date is in the past',
        'line 9: credit_limit has more than 2 decimal places: 1.005',
        'line 10: unknown user nobody',
        'line 11: group not found: nosuchgroup',
        'line 12: PIN must be 1 to 16 digits',
        'line 13: multiplier must be a number such as 1 or 1.25 (at most 4 decimals)',
        'line 14: account already exists: existing',
        'line 15: the same account name as line 2',
        'line 16: malformed CSV: a quoted field is never closed',
        `error: nothing imported: 14 problem(s) in ${csv()}`,
        '',
      ].join('\n'),
    );
    assert.deepEqual(await state(), before);
    await assert.rejects(s.accounts.get('Good'), /account not found: Good/);
  });

  it('refuses a file without a name column, with an unknown column, or with no rows, before reading any row', async () => {
    write(['code,users', 'A,ann']);
    assert.match((await cli('accounts', 'import', csv())).stderr, /^error: the header has no name column; the columns are: name, code, pin,/);
    write(['name,colour', 'A,blue']);
    assert.match((await cli('accounts', 'import', csv())).stderr, /^error: unknown column "colour" in the header/);
    write(['name']);
    assert.equal(
      (await cli('accounts', 'import', csv())).stderr,
      `${csv()} has no accounts after its header\nerror: nothing imported: 1 problem(s) in ${csv()}\n`,
    );
    assert.deepEqual(await state(), { accounts: 0, access: 0, audit: 0 });
  });
});
