import assert from 'node:assert/strict';
import { describeOnEachDatabase } from '../../utils/databases';
import { accountFor, jobDescription, servicesFor } from '../../utils/fixtures';

describeOnEachDatabase('a restricted shared account under concurrent reservations', (t) => {
  it('200 concurrent one-page jobs (10 each) never take it below minus its credit limit: 150 allowed, 50 denied', async () => {
    const s = servicesFor(t.db);
    const users = Array.from({ length: 20 }, (_, i) => `user${String(i).padStart(2, '0')}`);
    for (const username of users) await accountFor(s, { username, initialCredit: 0 });
    const account = await s.accounts.create({ name: 'Grant 42', code: 'G42', restricted: true, creditLimit: 500 }, 'test');
    await s.balances.adjust({ accountId: account.id, amount: 1000, comment: 'grant', key: 'test:grant', actor: 'test' });
    await s.accounts.grant('Grant 42', { everyone: true }, 'test');
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        s.printing.submit({ kind: 'authorize', secondary: 'print-1', job: jobDescription({ username: users[i % 20] ?? '', pages: 1, accountCode: 'g42' }) }),
      ),
    );
    const allowed = outcomes.filter((o) => o.kind === 'authorized' && o.allowed).length;
    assert.deepEqual([allowed, outcomes.length - allowed], [150, 50]);
    const after = await s.ledger.getAccount(account.id);
    assert.deepEqual([after.balance, after.reserved], [1000, 1500]);
    assert.equal(Number((await t.db.knex('reservations').where({ account_id: account.id, state: 'held' }).sum({ n: 'amount' }).first())?.n), 1500);
    assert.deepEqual((await s.ledger.verify()).problems, []);
  });
});
