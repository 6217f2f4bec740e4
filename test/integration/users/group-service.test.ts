/**
 * GroupService on every dialect: creating groups, memberships, new-user rules and member counts.
 */
import assert from 'node:assert/strict';
import { listAudit } from '../../../primary/audit/audit-log';
import type { Services } from '../../../primary/services';
import { describeOnEachDatabase } from '../../utils/databases';
import { servicesFor } from '../../utils/fixtures';

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => (err as { code?: string }).code === code);
}

describeOnEachDatabase('GroupService', (t) => {
  let s: Services;
  beforeEach(() => {
    s = servicesFor(t.db);
  });

  describe('create()', () => {
    it('creates a group with its new-user rules (site defaults unless given)', async () => {
      const plain = await s.groups.create({ name: ' Staff ', description: 'all staff' });
      assert.deepEqual(
        {
          name: plain.name,
          description: plain.description,
          initialCredit: plain.initialCredit,
          initialRestricted: plain.initialRestricted,
          initialCreditLimit: plain.initialCreditLimit,
          members: plain.members,
        },
        { name: 'Staff', description: 'all staff', initialCredit: 0, initialRestricted: null, initialCreditLimit: null, members: 0 },
      );
      const ruled = await s.groups.create({ name: 'Students', initialCredit: 500, initialRestricted: true, initialCreditLimit: 100 }, 'admin');
      assert.deepEqual([ruled.initialCredit, ruled.initialRestricted, ruled.initialCreditLimit], [500, true, 100]);
      const [audit] = await listAudit(t.db.knex, { targetType: 'group', targetId: 'Students' });
      assert.equal(audit?.action, 'group.create');
      assert.equal(audit?.actor, 'admin');
    });

    it('refuses a duplicate name as ALREADY_EXISTS', async () => {
      await s.groups.create({ name: 'Staff' });
      await rejectsWith(s.groups.create({ name: 'Staff ' }), 'ALREADY_EXISTS');
      assert.equal((await s.groups.list()).length, 1);
    });

    it('refuses an empty name and negative rules', async () => {
      await rejectsWith(s.groups.create({ name: '  ' }), 'VALIDATION');
      await rejectsWith(s.groups.create({ name: 'X', initialCredit: -1 }), 'VALIDATION');
      await rejectsWith(s.groups.create({ name: 'Y', initialCreditLimit: 1.5 }), 'VALIDATION');
      assert.deepEqual(await s.groups.list(), []);
    });

    it('reports an unknown group as NOT_FOUND', async () => {
      await rejectsWith(s.groups.get('Nobody'), 'NOT_FOUND');
    });
  });

  describe('addMembers() and removeMembers()', () => {
    beforeEach(async () => {
      await s.groups.create({ name: 'Staff' });
      for (const username of ['ann', 'bob', 'cat']) await s.users.createUser({ username });
    });

    it('adds users (by any case of their name) and counts only the new ones', async () => {
      assert.equal(await s.groups.addMembers('Staff', ['ANN', 'bob']), 2);
      assert.equal(await s.groups.addMembers('Staff', ['bob', 'cat', 'cat']), 1);
      assert.deepEqual(await s.groups.members('Staff'), ['ann', 'bob', 'cat']);
      assert.deepEqual((await s.users.detail((await s.users.getByUsername('ann')).id)).groups, ['Staff']);
    });

    it('refuses unknown users as NOT_FOUND and adds nobody', async () => {
      await rejectsWith(s.groups.addMembers('Staff', ['ann', 'zed']), 'NOT_FOUND');
      assert.deepEqual(await s.groups.members('Staff'), []);
      await rejectsWith(s.groups.addMembers('Ghosts', ['ann']), 'NOT_FOUND');
    });

    it('removes members and says how many were removed', async () => {
      await s.groups.addMembers('Staff', ['ann', 'bob', 'cat']);
      assert.equal(await s.groups.removeMembers('Staff', ['bob', 'cat', 'nobody']), 2);
      assert.deepEqual(await s.groups.members('Staff'), ['ann']);
      await rejectsWith(s.groups.removeMembers('Ghosts', ['ann']), 'NOT_FOUND');
    });
  });

  describe('setRules()', () => {
    it('changes only the rules given, and null returns a rule to the site default', async () => {
      await s.groups.create({ name: 'Staff', initialCredit: 100, initialRestricted: true, initialCreditLimit: 50 });
      const g = await s.groups.setRules('Staff', { initialCredit: 250, initialCreditLimit: null });
      assert.deepEqual([g.initialCredit, g.initialRestricted, g.initialCreditLimit], [250, true, null]);
      const user = await s.users.createUser({ username: 'dee', groups: ['Staff'] });
      assert.equal(user.account.balance, 250);
      assert.equal(user.account.creditLimit, null);
    });

    it('refuses an unknown group as NOT_FOUND', async () => {
      await rejectsWith(s.groups.setRules('Ghosts', { initialCredit: 1 }), 'NOT_FOUND');
    });
  });

  describe('list()', () => {
    it('lists groups by name with their member counts', async () => {
      await s.groups.create({ name: 'Staff' });
      await s.groups.create({ name: 'Library' });
      await s.groups.create({ name: 'Empty' });
      await s.users.createUser({ username: 'ann', groups: ['Staff', 'Library'] });
      await s.users.createUser({ username: 'bob', groups: ['Staff'] });
      assert.deepEqual(
        (await s.groups.list()).map((g) => [g.name, g.members]),
        [
          ['Empty', 0],
          ['Library', 1],
          ['Staff', 2],
        ],
      );
      assert.equal((await s.groups.get('Staff')).members, 2);
    });
  });
});
