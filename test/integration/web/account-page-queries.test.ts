/**
 * The account pages' page model reads a bounded number of queries: the admin list of shared
 * accounts and a user's accounts page make as many knex queries with six accounts as with two
 * (access lists, balances and recent charges are read for all the accounts at once).
 */
import assert from 'node:assert/strict';
import type { Services } from '../../../primary/services';
import { AccountPages } from '../../../web-tools/pages/account-pages';
import { describeOnEachDatabase } from '../../utils/databases';
import { accountFor, servicesFor } from '../../utils/fixtures';

const ACTOR = 'cli:admin';

describeOnEachDatabase('account pages: queries per page', (t) => {
  let s: Services;
  let pages: AccountPages;
  let ann: number;
  beforeEach(async () => {
    s = servicesFor(t.db);
    pages = new AccountPages({ services: s });
    await accountFor(s, { username: 'ann', initialCredit: 0 });
    ann = (await s.users.getByUsername('ann')).id;
    await s.groups.create({ name: 'lab' }, ACTOR);
    await s.groups.addMembers('lab', ['ann'], ACTOR);
  });

  /** Shared accounts A1…An, each listing ann and the group lab. */
  const accounts = async (from: number, to: number): Promise<void> => {
    for (let i = from; i <= to; i++) {
      await s.accounts.create({ name: `A${i}`, code: `A${i}` }, ACTOR);
      await s.accounts.grant(`A${i}`, { user: 'ann' }, ACTOR);
      await s.accounts.grant(`A${i}`, { group: 'lab' }, ACTOR);
    }
  };

  /** The knex queries `work` makes (prepared reads of the charge path's context are not counted). */
  const queries = async (work: () => Promise<unknown>): Promise<number> => {
    let n = 0;
    const count = (): void => {
      n++;
    };
    t.db.knex.on('query', count);
    try {
      await work();
    } finally {
      t.db.knex.off('query', count);
    }
    return n;
  };

  it('lists shared accounts with their access in 3 queries, however many accounts', async () => {
    await accounts(1, 2);
    const two = await queries(() => pages.sharedAccounts('', false));
    await accounts(3, 6);
    let rows: Awaited<ReturnType<AccountPages['sharedAccounts']>> = [];
    const six = await queries(async () => {
      rows = await pages.sharedAccounts('', false);
    });
    assert.deepEqual([two, six], [3, 3]);
    assert.deepEqual(
      rows.map((r) => [r.name, r.access]),
      [1, 2, 3, 4, 5, 6].map((i) => [`A${i}`, { everyone: false, users: ['ann'], groups: ['lab'] }]),
    );
  });

  it("shows a user's accounts with balances and recent charges in the same number of queries for two accounts as for six", async () => {
    await accounts(1, 2);
    const two = await queries(() => pages.userAccounts(ann, 'ann'));
    await accounts(3, 6);
    const six = await queries(() => pages.userAccounts(ann, 'ann'));
    assert.equal(six, two);
    assert.equal(two, 4);
  });
});
