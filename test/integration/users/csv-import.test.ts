/**
 * Importing users from CSV (primary/users/csv-import.ts) on every dialect: good lines become
 * users with the right balances, groups and ledger rows; each bad line is reported with the line
 * it starts on and changes nothing; problems with the whole file change nothing at all.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { listAudit } from '../../../primary/audit/audit-log';
import type { Services } from '../../../primary/services';
import { importUsers, type ImportResult } from '../../../primary/users/csv-import';
import { describeOnEachDatabase } from '../../utils/databases';
import { servicesFor } from '../../utils/fixtures';

const HEADER = 'username,full_name,email,department,office,card,groups,initial_credit,restricted,credit_limit,password';

/** One line of each kind of problem, between good lines; comments are the physical line numbers. */
const MIXED = [
  /*  1 */ HEADER,
  /*  2 */ 'ann,Ann Archer,ann@example.org,Physics,B12,1001,Staff,,,,',
  /*  3 */ 'bob,"Bob ""Bobby"" Brown",bob@example.org,Chemistry,"Main Library',
  /*  4 */ 'Level 2",1002;1003,Staff;Students,5.00,no,2.50,',
  /*  5 */ ',No Name,nobody@example.org,,,,,,,,',
  /*  6 */ 'cat,Cat,not-an-email,,,,,,,,',
  /*  7 */ 'dee,Dee,,,,,,ten,,,',
  /*  8 */ 'eve,Eve,,,,,,1.234,,,',
  /*  9 */ 'fay,Fay,,,,,Ghosts,,,,',
  /* 10 */ 'ANN,Ann Again,,,,,,,,,',
  /* 11 */ 'olga,Olga Again,,,,,,,,,',
  /* 12 */ 'gus,Gus,,,,9000,,,,,',
  /* 13 */ 'hal,Hal,,,,1001,,,,,',
  /* 14 */ 'ian,"Ian"x,,,,,,,,,',
  /* 15 */ 'pat,"Pat',
  /* 16 */ 'Smith",pat@,,,,,,,,',
  /* 17 */ 'jon,Jon,,,,,,,maybe,,',
  /* 18 */ 'kim,Kim,,,,,,,,-1.00,',
  /* 19 */ 'lee,Lee,,,,,,,,,short',
  /* 20 */ 'ned,Ned,,,',
  /* 21 */ ',,,,,,,,,,',
  /* 22 */ 'max,Max Mustermann,,,,,Students,,,,correct-horse',
  /* 23 */ '',
];
const MIXED_SKIPS = [
  { line: 5, reason: 'username is missing' },
  { line: 6, reason: 'email is not an email address: "not-an-email"' },
  { line: 7, reason: 'initial_credit is not a number: "ten"' },
  { line: 8, reason: 'initial_credit has more than 2 decimal places: 1.234' },
  { line: 9, reason: 'unknown group "Ghosts"' },
  { line: 10, reason: 'username ann already appears on line 2' },
  { line: 11, reason: 'user olga already exists (update mode changes existing users)' },
  { line: 12, reason: 'card 9000 already belongs to user olga' },
  { line: 13, reason: 'card 1001 already appears on line 2' },
  { line: 14, reason: 'malformed CSV: text after the closing quote of a field (write a quote inside a quoted field as "")' },
  { line: 15, reason: 'email is not an email address: "pat@"' },
  { line: 17, reason: 'restricted must be yes, no, true, false, 1 or 0, not "maybe"' },
  { line: 18, reason: 'credit_limit must not be negative: -1.00' },
  { line: 19, reason: 'password must be at least 8 characters' },
  { line: 20, reason: 'malformed CSV: 5 fields but the header has 11' },
];

describeOnEachDatabase('importUsers()', (t) => {
  let s: Services;
  let fileNo = 0;

  /** Writes the lines to a file in the suite's data directory and returns its path. */
  function csvFile(content: string | Buffer): string {
    const file = path.join(t.dataDir, `users-${++fileNo}.csv`);
    fs.writeFileSync(file, content);
    return file;
  }

  async function balanceOf(username: string): Promise<number> {
    const user = await s.users.getByUsername(username);
    return (await s.users.personalAccount(user.id)).balance;
  }

  async function countRows(table: string): Promise<number> {
    const row = (await t.db.knex(table).count({ n: '*' }).first()) as { n: number | string } | undefined;
    return Number(row?.n ?? 0);
  }

  async function usernames(): Promise<string[]> {
    return (await s.users.list()).map((u) => u.username);
  }

  beforeEach(async () => {
    s = servicesFor(t.db);
    await s.groups.create({ name: 'Staff', initialCredit: 500 });
    await s.groups.create({ name: 'Students', initialCredit: 200, initialCreditLimit: 100 });
    await s.users.createUser({ username: 'olga', fullName: 'Olga Existing', cards: ['9000'], initialCredit: 75 });
  });

  describe('a file mixing good and bad lines', () => {
    let result: ImportResult;

    beforeEach(async () => {
      result = await importUsers(s, csvFile(MIXED.join('\n')), { actor: 'test:import' });
    });

    it('imports exactly the good lines and reports every bad one by the line it starts on', () => {
      assert.deepEqual(result.skipped, MIXED_SKIPS);
      assert.deepEqual(
        { total: result.total, imported: result.imported, updated: result.updated, unchanged: result.unchanged, dryRun: result.dryRun },
        { total: 18, imported: 3, updated: 0, unchanged: 0, dryRun: false },
      );
    });

    it('creates nothing for the bad lines', async () => {
      assert.deepEqual(await usernames(), ['ann', 'bob', 'max', 'olga']);
      assert.equal((await s.users.detail((await s.users.getByUsername('olga')).id)).fullName, 'Olga Existing');
      assert.equal(await countRows('user_cards'), 4); // olga's 9000, ann's 1001, bob's 1002 and 1003
    });

    it('gives each new user the details from the file and the groups’ new-user rules', async () => {
      const ann = await s.users.detail((await s.users.getByUsername('ann')).id);
      assert.deepEqual(
        [ann.fullName, ann.email, ann.department, ann.office, ann.cards, ann.groups, ann.account.balance, ann.account.restricted, ann.account.creditLimit],
        ['Ann Archer', 'ann@example.org', 'Physics', 'B12', ['1001'], ['Staff'], 500, true, null],
      );
      const max = await s.users.detail((await s.users.getByUsername('max')).id);
      assert.deepEqual(
        [max.fullName, max.groups, max.account.balance, max.account.restricted, max.account.creditLimit],
        ['Max Mustermann', ['Students'], 200, true, 100],
      );
      assert.match((await s.users.passwordHashOf(max.id)) ?? '', /^scrypt\$/);
    });

    it('lets the file’s own values win, reads quoted fields, and turns a line break in a field into a space', async () => {
      const bob = await s.users.detail((await s.users.getByUsername('bob')).id);
      assert.deepEqual(
        [bob.fullName, bob.office, bob.cards, bob.groups, bob.account.balance, bob.account.restricted, bob.account.creditLimit],
        ['Bob "Bobby" Brown', 'Main Library Level 2', ['1002', '1003'], ['Staff', 'Students'], 500, false, 250],
      );
    });

    it('records each initial credit as one "initial" ledger row, and the ledger still verifies', async () => {
      const rows = (await t.db
        .knex('ledger')
        .join('accounts', 'accounts.id', 'ledger.account_id')
        .orderBy('accounts.name')
        .select('accounts.name', 'ledger.amount', 'ledger.type', 'ledger.actor')) as {
        name: string;
        amount: number | string;
        type: string;
        actor: string;
      }[];
      assert.deepEqual(
        rows.map((r) => [r.name, Number(r.amount), r.type, r.actor]),
        [
          ['ann', 500, 'initial', 'test:import'],
          ['bob', 500, 'initial', 'test:import'],
          ['max', 200, 'initial', 'test:import'],
          ['olga', 75, 'initial', 'system'],
        ],
      );
      const verify = await s.ledger.verify();
      assert.deepEqual(verify.problems, []);
      assert.equal(verify.ledgerRows, 4);
    });
  });

  describe('a dry run', () => {
    it('reports exactly what the import then does, and writes nothing', async () => {
      const file = csvFile(MIXED.join('\n'));
      const counts = async (): Promise<number[]> => Promise.all(['users', 'accounts', 'user_cards', 'group_members', 'ledger', 'audit_log'].map(countRows));
      const before = await counts();
      const dry = await importUsers(s, file, { actor: 'test', dryRun: true });
      assert.deepEqual(await counts(), before);
      const real = await importUsers(s, file, { actor: 'test' });
      assert.deepEqual({ ...dry, dryRun: false }, real);
      assert.deepEqual(dry.skipped, MIXED_SKIPS);
    });
  });

  describe('problems with the whole file', () => {
    it('refuses a header with unknown columns, naming them, and imports nothing', async () => {
      const file = csvFile(['usrname,full_name,e-mail', 'ann,Ann,ann@example.org'].join('\n'));
      await assert.rejects(importUsers(s, file, { actor: 'test' }), (err: unknown) => {
        const e = err as { code?: string; message?: string; details?: { columns?: string[] } };
        assert.equal(e.code, 'VALIDATION');
        assert.match(e.message ?? '', /^unknown columns "usrname", "e-mail" in the header; nothing was imported/);
        assert.deepEqual(e.details?.columns, ['usrname', 'e-mail']);
        return true;
      });
      assert.deepEqual(await usernames(), ['olga']);
    });

    it('refuses a header without a username column, or naming a column twice', async () => {
      await assert.rejects(importUsers(s, csvFile('full_name,email\nAnn,a@b\n'), { actor: 'test' }), /the header has no username column/);
      await assert.rejects(importUsers(s, csvFile('username,Email,EMAIL\nann,a@b,c@d\n'), { actor: 'test' }), /column email appears twice in the header/);
      assert.deepEqual(await usernames(), ['olga']);
    });

    it('reads header names in any case, with spaces or hyphens for underscores', async () => {
      const result = await importUsers(s, csvFile('USERNAME, Full Name ,Initial-Credit\nann,Ann Archer,1.50\n'), { actor: 'test' });
      assert.deepEqual(result.skipped, []);
      assert.equal((await s.users.detail((await s.users.getByUsername('ann')).id)).fullName, 'Ann Archer');
      assert.equal(await balanceOf('ann'), 150);
    });

    it('refuses a file that is not UTF-8, naming the first bad line, and imports nothing', async () => {
      const latin1 = Buffer.concat([Buffer.from('username,full_name\nann,Ann\nzoe,Z'), Buffer.from([0xe9]), Buffer.from('e\n')]);
      await assert.rejects(importUsers(s, csvFile(latin1), { actor: 'test' }), (err: unknown) => {
        const e = err as { code?: string; message?: string };
        return e.code === 'VALIDATION' && /is not valid UTF-8 \(first bad byte on line 3\)/.test(e.message ?? '');
      });
      assert.deepEqual(await usernames(), ['olga']);
    });

    it('refuses an empty file, and a missing one', async () => {
      await assert.rejects(importUsers(s, csvFile('\n\n'), { actor: 'test' }), /is empty: the first line must be a header/);
      await assert.rejects(importUsers(s, path.join(t.dataDir, 'no-such.csv'), { actor: 'test' }), /cannot read .*no-such\.csv: no such file/);
    });

    it('returns an empty result for a file with only a header', async () => {
      const result = await importUsers(s, csvFile(`${HEADER}\n`), { actor: 'test' });
      assert.deepEqual(result, { total: 0, imported: 0, updated: 0, unchanged: 0, skipped: [], dryRun: false });
    });
  });

  describe('what spreadsheets write', () => {
    it('accepts a byte order mark, CRLF line ends, CRLF inside quotes, and trailing blank rows', async () => {
      const content = `\ufeff${['username,full_name,office', 'ann,Ann,"Room', '12"', 'bob,Bob,', ',,', ',,', ''].join('\r\n')}`;
      const result = await importUsers(s, csvFile(content), { actor: 'test' });
      assert.deepEqual(result.skipped, []);
      assert.equal(result.total, 2);
      assert.equal((await s.users.detail((await s.users.getByUsername('ann')).id)).office, 'Room 12');
      assert.deepEqual(await usernames(), ['ann', 'bob', 'olga']);
    });

    it('keeps counting lines correctly after a CRLF inside a quoted field', async () => {
      const content = ['username,full_name,email', 'ann,"Ann', 'Archer",ann@example.org', 'bob,Bob,bad-email', ''].join('\r\n');
      const result = await importUsers(s, csvFile(content), { actor: 'test' });
      assert.deepEqual(result.skipped, [{ line: 4, reason: 'email is not an email address: "bad-email"' }]);
    });

    it('skips only the line with an unclosed quote, not the rest of the file', async () => {
      const content = ['username,full_name', 'ann,"Ann', 'bob,Bob', 'cat,Cat', ''].join('\n');
      const result = await importUsers(s, csvFile(content), { actor: 'test' });
      assert.deepEqual(result.skipped, [{ line: 2, reason: 'malformed CSV: a quoted field is never closed' }]);
      assert.deepEqual(await usernames(), ['bob', 'cat', 'olga']);
    });

    it('reads from a stream as well as from a path', async () => {
      const result = await importUsers(s, Readable.from([Buffer.from('username,groups\nann,Staff;'), Buffer.from('Students\n')]), { actor: 'test' });
      assert.deepEqual(result.skipped, []);
      assert.deepEqual((await s.users.detail((await s.users.getByUsername('ann')).id)).groups, ['Staff', 'Students']);
      assert.equal(await balanceOf('ann'), 700);
    });

    it('suggests the right case for a group name that differs only in case', async () => {
      const result = await importUsers(s, csvFile('username,groups\nann,staff\n'), { actor: 'test' });
      assert.deepEqual(result.skipped, [{ line: 2, reason: 'unknown group "staff" (group names are case-sensitive: did you mean "Staff"?)' }]);
    });

    it('imports examples/users.csv as it stands', async () => {
      await s.groups.create({ name: 'Library' });
      const result = await importUsers(s, path.join(__dirname, '../../../examples/users.csv'), { actor: 'test' });
      assert.deepEqual(result.skipped, []);
      assert.equal(result.imported, 4);
      assert.equal((await s.users.detail((await s.users.getByUsername('mgarcia')).id)).fullName, 'García, María');
    });
  });

  describe('update mode', () => {
    beforeEach(async () => {
      await s.groups.create({ name: 'Library' });
      const olga = await s.users.getByUsername('olga');
      await s.groups.addMembers('Library', ['olga']);
      await s.users.update(olga.id, { department: 'Archives', restricted: true, creditLimit: 10 });
    });

    it('updates details, restriction and credit limit, adds groups and cards, and leaves the balance alone', async () => {
      const file = csvFile(
        [HEADER, 'OLGA,Olga Updated,olga@example.org,,Basement,9000;9001,Staff,99.00,no,3.00,new-password-123', 'ann,Ann,,,,,Students,,,,', ''].join('\n'),
      );
      const before = await countRows('ledger');
      const result = await importUsers(s, file, { actor: 'test:update', update: true });
      assert.deepEqual(
        { imported: result.imported, updated: result.updated, unchanged: result.unchanged, skipped: result.skipped },
        { imported: 1, updated: 1, unchanged: 0, skipped: [] },
      );

      const olga = await s.users.detail((await s.users.getByUsername('olga')).id);
      assert.deepEqual(
        [olga.fullName, olga.email, olga.department, olga.office, olga.cards, olga.groups, olga.account.restricted, olga.account.creditLimit],
        ['Olga Updated', 'olga@example.org', 'Archives', 'Basement', ['9000', '9001'], ['Library', 'Staff'], false, 300],
      );
      assert.equal(olga.account.balance, 75, 'neither initial_credit nor the Staff group credit touches an existing balance');
      assert.equal(await s.users.passwordHashOf(olga.id), null, 'an existing user keeps their password');
      assert.equal(await countRows('ledger'), before + 1, 'only the new user ann gets an initial ledger row');
      assert.equal(await balanceOf('ann'), 200);

      const audit = await listAudit(t.db.knex, { targetType: 'user', targetId: 'olga' });
      const update = audit.find((a) => a.action === 'user.update' && a.actor === 'test:update');
      assert.deepEqual(update?.details, { fullName: 'Olga Updated', email: 'olga@example.org', office: 'Basement', restricted: false, creditLimit: 300 });
      assert.deepEqual((await s.ledger.verify()).problems, []);
    });

    it('counts a line that matches what is stored as unchanged and writes nothing for it', async () => {
      const auditBefore = await countRows('audit_log');
      const result = await importUsers(
        s,
        csvFile('username,full_name,department,groups,restricted,credit_limit\nolga,Olga Existing,Archives,Library,yes,0.10\n'),
        {
          actor: 'test',
          update: true,
        },
      );
      assert.deepEqual({ updated: result.updated, unchanged: result.unchanged, skipped: result.skipped }, { updated: 0, unchanged: 1, skipped: [] });
      assert.equal(await countRows('audit_log'), auditBefore);
    });

    it('still refuses a card that belongs to another user, and changes nothing for that line', async () => {
      await s.users.createUser({ username: 'pia', cards: ['7000'] });
      const result = await importUsers(s, csvFile('username,department,card\nolga,Changed,7000\n'), { actor: 'test', update: true });
      assert.deepEqual(result.skipped, [{ line: 2, reason: 'card 7000 already belongs to user pia' }]);
      assert.equal((await s.users.detail((await s.users.getByUsername('olga')).id)).department, 'Archives');
    });
  });

  describe('progress', () => {
    it('reports 0 of the total first, then each line, ending at the total', async () => {
      const calls: [number, number][] = [];
      await importUsers(s, csvFile('username\nann\nbob\n"cat\ndee\n'), { actor: 'test', onProgress: (done, total) => calls.push([done, total]) });
      assert.deepEqual(calls, [
        [0, 4],
        [1, 4],
        [2, 4],
        [3, 4],
        [4, 4],
      ]);
    });
  });
});
