/**
 * UserService on every dialect: creating users with their personal account, the groups'
 * new-user rules, updating with an audit trail, and listing/searching.
 */
import assert from 'node:assert/strict';
import { listAudit } from '../../../primary/audit/audit-log';
import type { Services } from '../../../primary/services';
import { describeOnEachDatabase } from '../../utils/databases';
import { servicesFor } from '../../utils/fixtures';

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => (err as { code?: string }).code === code);
}

describeOnEachDatabase('UserService', (t) => {
  let s: Services;
  beforeEach(() => {
    s = servicesFor(t.db);
  });

  describe('createUser()', () => {
    it('creates the user with a personal account named after them, and no ledger row without credit', async () => {
      const user = await s.users.createUser({ username: 'ann', fullName: 'Ann Archer', email: 'ann@example.org', department: 'Physics', office: 'B12' });
      assert.equal(user.username, 'ann');
      assert.deepEqual([user.fullName, user.email, user.department, user.office, user.source], ['Ann Archer', 'ann@example.org', 'Physics', 'B12', 'local']);
      assert.equal(user.account.type, 'personal');
      assert.equal(user.account.userId, user.id);
      assert.equal(user.account.name, 'ann');
      assert.equal(user.account.balance, 0);
      assert.equal(user.account.restricted, true);
      assert.equal(user.account.creditLimit, null);
      assert.deepEqual(await s.ledger.history(user.account.id), []);
    });

    it('stores the username trimmed and in lower case, and finds it in any case', async () => {
      const user = await s.users.createUser({ username: '  Bob.Smith ' });
      assert.equal(user.username, 'bob.smith');
      assert.equal((await s.users.findByUsername('BOB.SMITH'))?.id, user.id);
      assert.equal((await s.users.getByUsername(' bob.smith ')).id, user.id);
    });

    it('refuses an empty username or one with control characters', async () => {
      await rejectsWith(s.users.createUser({ username: '   ' }), 'VALIDATION');
      await rejectsWith(s.users.createUser({ username: 'a\tb' }), 'VALIDATION');
      assert.equal(await s.users.count(), 0);
    });

    it('refuses a duplicate username, whatever its case, as ALREADY_EXISTS', async () => {
      await s.users.createUser({ username: 'cat' });
      await rejectsWith(s.users.createUser({ username: 'CAT ' }), 'ALREADY_EXISTS');
      assert.equal(await s.users.count(), 1);
    });

    it('reports a duplicate username as a duplicate user even when the name mentions cards', async () => {
      // The driver's message quotes the duplicate value; it must not be mistaken for the card index.
      await s.users.createUser({ username: 'user_cards' });
      await assert.rejects(s.users.createUser({ username: 'user_cards' }), (err: unknown) => (err as Error).message === 'user already exists: user_cards');
    });

    it('refuses an unknown group as NOT_FOUND and creates nothing', async () => {
      await s.groups.create({ name: 'Staff', initialCredit: 500 });
      await rejectsWith(s.users.createUser({ username: 'dee', groups: ['Staff', 'Ghosts'], initialCredit: 100 }), 'NOT_FOUND');
      assert.equal(await s.users.findByUsername('dee'), undefined);
      assert.equal(await s.users.count(), 0);
      assert.equal(
        await t.db
          .knex('accounts')
          .count({ n: '*' })
          .first()
          .then((r) => Number(r?.n)),
        0,
      );
      assert.equal(
        await t.db
          .knex('ledger')
          .count({ n: '*' })
          .first()
          .then((r) => Number(r?.n)),
        0,
      );
      assert.equal((await s.groups.get('Staff')).members, 0);
    });

    it('keeps cards, finds users by card, and refuses a card that belongs to someone else', async () => {
      const eve = await s.users.createUser({ username: 'eve', cards: ['1001', ' 1002 '] });
      assert.deepEqual(eve.cards, ['1001', '1002']);
      assert.equal((await s.users.findByCard('1002'))?.username, 'eve');
      await assert.rejects(s.users.createUser({ username: 'fay', cards: ['1002'] }), (err: unknown) => {
        const e = err as { code?: string; message?: string };
        return e.code === 'ALREADY_EXISTS' && e.message === 'card number already exists: 1002';
      });
      assert.equal(await s.users.findByUsername('fay'), undefined);
      await rejectsWith(s.users.addCard(eve.id, '1001'), 'ALREADY_EXISTS');
    });

    it('records an initial credit as one "initial" ledger row', async () => {
      const user = await s.users.createUser({ username: 'gil', initialCredit: 250 }, 'admin');
      assert.equal(user.account.balance, 250);
      const rows = await s.ledger.history(user.account.id);
      assert.deepEqual(
        rows.map((r) => [r.amount, r.balanceAfter, r.type, r.actor, r.idempotencyKey]),
        [[250, 250, 'initial', 'admin', `initial:user:${user.id}`]],
      );
      assert.deepEqual((await s.ledger.verify()).problems, []);
    });

    describe('new-user rules', () => {
      beforeEach(async () => {
        await s.settings.set('users.newUserInitialCredit', 100);
        await s.groups.create({ name: 'Students', initialCredit: 500, initialCreditLimit: 200 });
        await s.groups.create({ name: 'Library', initialCredit: 50, initialRestricted: true, initialCreditLimit: 700 });
        await s.groups.create({ name: 'Staff', initialCredit: 0, initialRestricted: false });
      });

      it('gives the site default plus every group initial credit', async () => {
        const user = await s.users.createUser({ username: 'hal', groups: ['Students', 'Library'] });
        assert.equal(user.account.balance, 650);
        assert.deepEqual(user.groups, ['Library', 'Students']);
      });

      it('gives only the site default to a user in no group', async () => {
        assert.equal((await s.users.createUser({ username: 'ian' })).account.balance, 100);
      });

      it('makes the user restricted unless a group says unrestricted', async () => {
        assert.equal((await s.users.createUser({ username: 'jon', groups: ['Library', 'Students'] })).account.restricted, true);
        assert.equal((await s.users.createUser({ username: 'kim', groups: ['Library', 'Staff'] })).account.restricted, false);
      });

      it('falls back to the site default when no group has a restriction rule', async () => {
        await s.settings.set('users.newUserRestricted', false);
        assert.equal((await s.users.createUser({ username: 'lee', groups: ['Students'] })).account.restricted, false);
      });

      it('takes the largest credit limit any group gives', async () => {
        const user = await s.users.createUser({ username: 'max', groups: ['Students', 'Library', 'Staff'] });
        assert.equal(user.account.creditLimit, 700);
        assert.equal(user.effectiveCreditLimit, 700);
      });

      it('lets explicit values win over the rules', async () => {
        const user = await s.users.createUser({ username: 'ned', groups: ['Students', 'Staff'], initialCredit: 0, restricted: true, creditLimit: 5 });
        assert.equal(user.account.balance, 0);
        assert.equal(user.account.restricted, true);
        assert.equal(user.account.creditLimit, 5);
        assert.deepEqual(await s.ledger.history(user.account.id), []);
      });
    });
  });

  describe('update()', () => {
    it('changes details and account settings, and writes an audit row', async () => {
      const user = await s.users.createUser({ username: 'oli' });
      const updated = await s.users.update(user.id, { fullName: 'Oli Olsen', department: 'Maths', restricted: false, creditLimit: 300 }, 'admin');
      assert.equal(updated.fullName, 'Oli Olsen');
      assert.equal(updated.department, 'Maths');
      assert.equal(updated.account.restricted, false);
      assert.equal(updated.account.creditLimit, 300);
      const [audit] = await listAudit(t.db.knex, { targetType: 'user', targetId: 'oli' });
      assert.equal(audit?.action, 'user.update');
      assert.equal(audit?.actor, 'admin');
      assert.deepEqual(audit?.details, { fullName: 'Oli Olsen', department: 'Maths', restricted: false, creditLimit: 300 });
    });

    it('returns the credit limit to the site default with null', async () => {
      await s.settings.set('accounts.defaultCreditLimit', 50);
      const user = await s.users.createUser({ username: 'pam', creditLimit: 300 });
      const updated = await s.users.update(user.id, { creditLimit: null });
      assert.equal(updated.account.creditLimit, null);
      assert.equal(updated.effectiveCreditLimit, 50);
    });

    it('stores a new password hash but never the password in the audit log', async () => {
      const user = await s.users.createUser({ username: 'quin' });
      await s.users.update(user.id, { password: 'correct horse battery' }, 'admin');
      const hash = await s.users.passwordHashOf(user.id);
      assert.match(hash ?? '', /^scrypt\$/);
      const rows = (await t.db.knex('audit_log').select('details')) as { details: string }[];
      assert.ok(rows.every((r) => !r.details.includes('correct horse battery')));
      const [audit] = await listAudit(t.db.knex, { targetType: 'user', targetId: 'quin' });
      assert.deepEqual(audit?.details, { password: '(changed)' });
    });

    it('refuses a bad email or an unknown user and changes nothing', async () => {
      const user = await s.users.createUser({ username: 'rae', email: 'rae@example.org' });
      await rejectsWith(s.users.update(user.id, { email: 'not an email' }), 'VALIDATION');
      assert.equal((await s.users.detail(user.id)).email, 'rae@example.org');
      await rejectsWith(s.users.update(999999, { fullName: 'Nobody' }), 'NOT_FOUND');
    });
  });

  describe('list()', () => {
    beforeEach(async () => {
      await s.groups.create({ name: 'Staff' });
      await s.users.createUser({ username: 'sam', fullName: 'Sam 100% Sure', department: 'Chemistry', initialCredit: 40 });
      await s.users.createUser({ username: 'tia_b', fullName: 'Tia Brown', email: 'tia@example.org', groups: ['Staff'], restricted: false });
      await s.users.createUser({ username: 'tiaxb', fullName: 'Tiax Black', department: 'Physics' });
      await s.users.createUser({ username: 'corp\\uma', fullName: 'Émile Ørsted' });
    });

    it('lists users by username with their balances and restriction', async () => {
      const rows = await s.users.list();
      assert.deepEqual(
        rows.map((r) => [r.username, r.balance, r.restricted]),
        [
          ['corp\\uma', 0, true],
          ['sam', 40, true],
          ['tia_b', 0, false],
          ['tiaxb', 0, true],
        ],
      );
    });

    it('searches username, full name, email and department, ignoring case', async () => {
      assert.deepEqual(
        (await s.users.list({ search: 'CHEM' })).map((r) => r.username),
        ['sam'],
      );
      assert.deepEqual(
        (await s.users.list({ search: 'example.org' })).map((r) => r.username),
        ['tia_b'],
      );
      assert.deepEqual(
        (await s.users.list({ search: 'black' })).map((r) => r.username),
        ['tiaxb'],
      );
    });

    it('ignores the case of letters outside ASCII too', async () => {
      assert.deepEqual(
        (await s.users.list({ search: 'Émile' })).map((r) => r.username),
        ['corp\\uma'],
      );
      assert.deepEqual(
        (await s.users.list({ search: 'ØRSTED' })).map((r) => r.username),
        ['corp\\uma'],
      );
    });

    it('treats % and _ in a search as themselves, not as wildcards', async () => {
      assert.deepEqual(
        (await s.users.list({ search: 'tia_' })).map((r) => r.username),
        ['tia_b'],
      );
      assert.deepEqual(
        (await s.users.list({ search: '100%' })).map((r) => r.username),
        ['sam'],
      );
      assert.deepEqual(
        (await s.users.list({ search: '%' })).map((r) => r.username),
        ['sam'],
      );
    });

    it('matches a backslash in a search literally (DOMAIN\\user names)', async () => {
      assert.deepEqual(
        (await s.users.list({ search: 'corp\\' })).map((r) => r.username),
        ['corp\\uma'],
      );
    });

    it('filters by group and pages with limit and offset', async () => {
      assert.deepEqual(
        (await s.users.list({ group: 'Staff' })).map((r) => r.username),
        ['tia_b'],
      );
      assert.deepEqual(
        (await s.users.list({ limit: 2, offset: 1 })).map((r) => r.username),
        ['sam', 'tia_b'],
      );
    });
  });
});
