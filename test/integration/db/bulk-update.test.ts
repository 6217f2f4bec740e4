import assert from 'node:assert/strict';
import { MAX_AMOUNT } from '../../../common/money';
import { bulkUpdateByIdSql } from '../../../primary/db/bulk-update';
import { runTransaction } from '../../../primary/db/sql-runner';
import { describeOnEachDatabase } from '../../utils/databases';
import { accountFor, servicesFor } from '../../utils/fixtures';

describeOnEachDatabase('bulkUpdateByIdSql()', (t) => {
  interface Row {
    id: number;
    balance: number | string;
    reserved: number | string;
    updated_at: number | string;
  }

  async function rows(ids: number[]): Promise<[number, number, number, number][]> {
    const found = (await t.db.knex('accounts').whereIn('id', ids).orderBy('id').select('id', 'balance', 'reserved', 'updated_at')) as Row[];
    return found.map((r) => [Number(r.id), Number(r.balance), Number(r.reserved), Number(r.updated_at)]);
  }

  it('writes each listed row its own values in one statement, up to the largest amount, and leaves the others alone', async () => {
    const s = servicesFor(t.db);
    const ann = await accountFor(s, { username: 'ann', restricted: false, initialCredit: 10 });
    const bob = await accountFor(s, { username: 'bob', restricted: false, initialCredit: 20 });
    const cat = await accountFor(s, { username: 'cat', restricted: false, initialCredit: 30 });
    const [, , catBefore] = await rows([ann, bob, cat]);
    const sql = bulkUpdateByIdSql(t.dialect, 'accounts', ['balance', 'reserved', 'updated_at']);
    const result = await runTransaction(t.db, (tx) =>
      tx.run(sql, [
        JSON.stringify([
          [bob, -MAX_AMOUNT, MAX_AMOUNT, 1_790_000_000_123],
          [ann, 7, 3, 1_790_000_000_456],
        ]),
      ]),
    );
    assert.equal(result.changes, 2);
    assert.deepEqual(await rows([ann, bob, cat]), [[ann, 7, 3, 1_790_000_000_456], [bob, -MAX_AMOUNT, MAX_AMOUNT, 1_790_000_000_123], catBefore]);
  });

  it('changes nothing for an empty list', async () => {
    const s = servicesFor(t.db);
    const dan = await accountFor(s, { username: 'dan', restricted: false, initialCredit: 40 });
    const before = await rows([dan]);
    const sql = bulkUpdateByIdSql(t.dialect, 'accounts', ['balance']);
    const result = await runTransaction(t.db, (tx) => tx.run(sql, ['[]']));
    assert.equal(result.changes, 0);
    assert.deepEqual(await rows([dan]), before);
  });
});
