/**
 * The administrative commands `quotient users|groups|balance|settings|verify|secondaries`, run in
 * process (test/utils/cli.ts) on each dialect: exact ledger rows, refusals with exit 1 and nothing
 * changed, and --help for every command.
 */
import assert from 'node:assert/strict';
import { describeOnEachDatabase } from '../../utils/databases';
import { cliAgainst, runCliInProcess } from '../../utils/cli';
import { servicesFor } from '../../utils/fixtures';
import { parseJobDescription } from '../../../primary/printing/job-events';

describeOnEachDatabase('quotient CLI', (t) => {
  const { cli, ok, fails } = cliAgainst(t);

  it('manages users, groups and balances, leaving exact ledger rows', async () => {
    await ok('groups', 'add', 'staff', '--initial-credit', '2.00', '--initial-restricted', 'no');
    assert.match(
      await ok('users', 'add', 'Ann', '--full-name', 'Ann Archer', '--group', 'staff', '--card', '1001', '--initial-credit', '5.00'),
      /created user ann \(balance \$5\.00, unrestricted\)/,
    );
    await ok('users', 'add', 'bob', '--restricted', '--credit-limit', '1.50');
    assert.match(await ok('balance', 'adjust', 'ANN', '-2.25', '--comment', 'manual print'), /ann: -\$2\.25 → balance \$2\.75/);
    assert.match(await ok('balance', 'set', 'bob', '10', '--comment', 'term start', '--key', 'term-1'), /bob: \$10\.00 → balance \$10\.00/);
    assert.match(await ok('balance', 'set', 'bob', '10', '--comment', 'term start', '--key', 'term-1'), /already applied/);
    await ok('groups', 'add-member', 'staff', 'bob');

    const list = await ok('users', 'list');
    assert.match(list, /^ann\s+Ann Archer\s+\$2\.75\s+no\s+no$/m);
    assert.match(list, /^bob\s+\$10\.00\s+yes\s+no$/m);
    const show = JSON.parse(await ok('users', 'show', 'ann', '--json')) as {
      account: { balance: number };
      groups: string[];
      cards: string[];
      recentTransactions: { amount: number; type: string; comment: string }[];
    };
    assert.equal(show.account.balance, 275);
    assert.deepEqual(show.groups, ['staff']);
    assert.deepEqual(show.cards, ['1001']);
    assert.deepEqual(
      show.recentTransactions.map((e) => [e.amount, e.type, e.comment]),
      [
        [-225, 'adjustment', 'manual print'],
        [500, 'initial', 'initial credit for a new user'],
      ],
    );
    assert.match(await ok('groups', 'show', 'staff'), /2 member\(s\): ann, bob/);
    assert.match(await ok('verify'), /OK/);
    assert.match(await ok('secondaries'), /no secondaries have registered/);

    const s = servicesFor(t.db);
    const bob = await s.users.getByUsername('bob');
    const rows = await s.ledger.history((await s.users.personalAccount(bob.id)).id);
    assert.deepEqual(
      rows.map((r) => [r.amount, r.balanceAfter, r.actor?.startsWith('cli:'), r.idempotencyKey]),
      [[1000, 1000, true, 'term-1']],
    );
  });

  it('refuses bad input with a clear message, exit 1, and changes nothing', async () => {
    await ok('users', 'add', 'cal', '--initial-credit', '1.00');
    await fails(/more than 2 decimal places/, 'balance', 'adjust', 'cal', '1.005', '--comment', 'x');
    await fails(/not a number/, 'balance', 'adjust', 'cal', 'ten', '--comment', 'x');
    await fails(/adjustment of zero/, 'balance', 'adjust', 'cal', '0', '--comment', 'x');
    await fails(/user not found: nobody/, 'balance', 'adjust', 'nobody', '1', '--comment', 'x');
    await fails(/user already exists: cal/, 'users', 'add', 'CAL');
    await fails(/group not found: ghosts/, 'users', 'add', 'dan', '--group', 'ghosts');
    await fails(/email is not an email address/, 'users', 'add', 'eve', '--email', 'not-an-email');
    await fails(/creditLimit must not be negative/, 'users', 'add', 'fay', '--credit-limit', '-1');
    await fails(/out of range/, 'balance', 'set', 'cal', '1000000000000', '--comment', 'x');
    await ok('groups', 'add', 'lab');
    await fails(/group already exists: lab/, 'groups', 'add', 'lab');
    await fails(/user not found: ghost/, 'groups', 'add-member', 'lab', 'ghost');
    const r = await cli('balance', 'adjust', 'cal', '1');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--comment/);

    const users = JSON.parse(await ok('users', 'list', '--json')) as { username: string; balance: number }[];
    assert.deepEqual(
      users.map((u) => [u.username, u.balance]),
      [['cal', 100]],
    );
    assert.deepEqual(JSON.parse(await ok('groups', 'show', 'lab', '--json')).memberNames, []);
  });

  it('shows and changes site settings, refusing bad ones', async () => {
    assert.match(await ok('settings', 'list'), /^accounts\.defaultCreditLimit = 0$/m);
    assert.match(await ok('settings', 'set', 'accounts.defaultCreditLimit', '250'), /= 250/);
    assert.match(await ok('settings', 'set', 'currency.symbol', '€'), /= "€"/);
    await fails(/unknown setting nope/, 'settings', 'set', 'nope', '1');
    await fails(/invalid value for currency\.decimals/, 'settings', 'set', 'currency.decimals', '9');
    await fails(/invalid value for accounts\.defaultCreditLimit/, 'settings', 'set', 'accounts.defaultCreditLimit', '1.5');
    await ok('users', 'add', 'hal', '--restricted');
    assert.match(await ok('users', 'show', 'hal'), /credit limit\s+€2\.50 \(site default\)/);
  });

  it('verify exits 1 when a balance disagrees with its ledger', async () => {
    await ok('users', 'add', 'gus', '--initial-credit', '3.00');
    await t.db.knex('accounts').update({ balance: 301 });
    const r = await cli('verify');
    assert.equal(r.code, 1);
    assert.match(r.stdout, /MISMATCH account \d+ \(gus\): balance 301 but ledger sums to 300/);
  });

  it('verify exits 1 for a print authorisation held past printing.authorisationTimeout; secondaries shows dead letters', async () => {
    const s = servicesFor(t.db);
    await s.users.createUser({ username: 'ivy', restricted: true, initialCredit: 100 });
    const job = parseJobDescription({
      jobId: 'urn:uuid:stale-1',
      queue: 'lab',
      username: 'ivy',
      documentName: '',
      pages: 3,
      colourPages: 0,
      copies: 1,
      duplex: false,
      paperSize: '',
      finishings: [],
      accountCode: '',
      clientHost: '',
      submittedAt: 0,
    });
    await s.printing.submit({ kind: 'authorize', secondary: 'print-1', job });
    const fiveHoursAgo = Date.now() - 5 * 3600_000;
    await t.db.knex('print_jobs').where({ job_uuid: job.jobId }).update({ authorised_at: fiveHoursAgo });
    const r = await cli('verify');
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stdout,
      /^STALE HOLD job urn:uuid:stale-1 \(ivy, secondary print-1\): \$0\.30 held since .+, past printing\.authorisationTimeout \(14400 s\)$/m,
    );
    assert.match(r.stdout, /ledger rows: 1 authorisation\(s\) held past the timeout$/m);
    const json = JSON.parse((await cli('verify', '--json')).stdout) as { staleAuthorisations: { jobId: string; held: number; authorisedAt: number }[] };
    assert.deepEqual(json.staleAuthorisations, [{ jobId: 'urn:uuid:stale-1', username: 'ivy', secondary: 'print-1', held: 30, authorisedAt: fiveHoursAgo }]);
    await ok('settings', 'set', 'printing.authorisationTimeout', '86400');
    assert.match(await ok('verify'), /: OK$/m);

    await t.db.knex('secondaries').insert({
      name: 'print-1',
      role: 'print',
      version: '0.1.0',
      host: 'ps1',
      address: '',
      registered_at: Date.now(),
      last_seen_at: Date.now(),
      outbox_depth: 0,
      dead_letters: 2,
      last_dead_letter: 'job:urn:uuid:x: INVALID_ARGUMENT: VALIDATION: printedPages must be at most 1,000,000',
    });
    const list = await ok('secondaries');
    assert.match(list, /^NAME\s+ROLE\s+STATE\s+LAST SEEN\s+OUTBOX\s+DEAD LETTERS\s+VERSION/m);
    assert.match(list, /^print-1\s+print\s+online\s+\S+ ago\s+0\s+2\s+0\.1\.0/m);
    assert.match(list, /^print-1: 2 dead letter\(s\); newest: job:urn:uuid:x: INVALID_ARGUMENT: VALIDATION: printedPages must be at most 1,000,000$/m);
  });
});

describe('quotient CLI without a usable database', () => {
  it('says so clearly and exits 1', async () => {
    const refused = await runCliInProcess(['users', 'list'], { QUOTIENT_DATABASE_URL: 'mysql://root@127.0.0.1:1/nowhere' });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /cannot (use|connect to) database mysql:\/\/root@127\.0\.0\.1:1\/nowhere/);
    const unsupported = await runCliInProcess(['verify'], { QUOTIENT_DATABASE_URL: 'postgres://u:secret@h/db' });
    assert.equal(unsupported.code, 1);
    assert.match(unsupported.stderr, /unsupported database URL/);
    assert.doesNotMatch(unsupported.stderr, /secret/);
  });

  it('prints --help for every command', async () => {
    for (const args of [
      ['--help'],
      ['users', 'add', '--help'],
      ['balance', 'set', '--help'],
      ['groups', '--help'],
      ['verify', '--help'],
      ['primary', '--help'],
    ]) {
      const r = await runCliInProcess(args);
      assert.equal(r.code, 0, args.join(' '));
      assert.match(r.stdout, /^Usage: quotient/m);
    }
  });
});
