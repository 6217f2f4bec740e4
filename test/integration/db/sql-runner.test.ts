import assert from 'node:assert/strict';
import { runReads, runTransaction } from '../../../primary/db/sql-runner';
import { describeOnEachDatabase } from '../../utils/databases';
import { accountFor, servicesFor } from '../../utils/fixtures';

describeOnEachDatabase('runReads()', (t) => {
  it('reads committed rows with placeholders, the same statement again with other values', async () => {
    const s = servicesFor(t.db);
    const ann = await accountFor(s, { username: 'ann', restricted: false, initialCredit: 250 });
    const bob = await accountFor(s, { username: 'bob', restricted: false, initialCredit: 75 });
    const balances = await runReads(t.db, async (q) => {
      const a = await q.get<{ balance: number | string }>('SELECT balance FROM accounts WHERE id = ?', [ann]);
      const b = await q.get<{ balance: number | string }>('SELECT balance FROM accounts WHERE id = ?', [bob]);
      const none = await q.get<{ balance: number | string }>('SELECT balance FROM accounts WHERE id = ?', [-1]);
      const all = await q.all<{ id: number }>('SELECT id FROM accounts WHERE id IN (?, ?) ORDER BY id', [ann, bob]);
      return [Number(a?.balance), Number(b?.balance), none, all.map((r) => Number(r.id))];
    });
    assert.deepEqual(balances, [250, 75, undefined, [ann, bob].sort((x, y) => x - y)]);
  });

  it('gives its connection back, so a transaction can run afterwards and after a failed read', async () => {
    const cat = await accountFor(servicesFor(t.db), { username: 'cat', restricted: false, initialCredit: 40 });
    await assert.rejects(runReads(t.db, (q) => q.get('SELECT no_such_column FROM accounts')));
    const row = await runTransaction(t.db, (tx) => tx.get<{ balance: number | string }>('SELECT balance FROM accounts WHERE id = ?', [cat]));
    assert.equal(Number(row?.balance), 40);
    const again = await runReads(t.db, (q) => q.get<{ one: number | string }>('SELECT 1 AS one'));
    assert.equal(Number(again?.one), 1);
  });
});
