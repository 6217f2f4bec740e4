import assert from 'node:assert/strict';
import path from 'node:path';
import { runReads, runTransaction } from '../../../primary/db/sql-runner';
import { WalSyncer } from '../../../primary/db/wal-sync';
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

describeOnEachDatabase('runTransaction() durability', (t) => {
  /** The connection's synchronous setting, read through knex (2 is FULL). */
  async function synchronous(): Promise<number> {
    const rows = (await t.db.knex.raw('PRAGMA synchronous')) as { synchronous: number }[];
    return Number(rows[0]?.synchronous);
  }

  it('is acknowledged only once durable: SQLite waits for the WAL sync, with the connection free and at synchronous=FULL meanwhile; MySQL has no syncer', async () => {
    if (t.dialect !== 'sqlite') {
      assert.equal(t.db.walSync, undefined, 'MySQL commits are durable on the server: nothing to sync here');
      return;
    }
    const real = t.db.walSync;
    assert.ok(real, 'a SQLite file has a WAL syncer');
    const ann = await accountFor(servicesFor(t.db), { username: 'ann', restricted: false, initialCredit: 10 });
    let finish: (() => void) | undefined;
    const started = new Promise<void>((ready) => {
      t.db.walSync = new WalSyncer(path.join(t.dataDir, 'quotient.db'), () => {
        ready();
        return new Promise<void>((resolve) => (finish = resolve));
      });
    });
    try {
      let done = false;
      const tx = runTransaction(t.db, (q) => q.run('UPDATE accounts SET balance = balance + 5 WHERE id = ?', [ann])).then(() => (done = true));
      await started;
      assert.equal(done, false, 'not acknowledged before the sync');
      assert.equal(await synchronous(), 2, 'the connection is free and at FULL again while the sync runs');
      const row = await runReads(t.db, (q) => q.get<{ balance: number | string }>('SELECT balance FROM accounts WHERE id = ?', [ann]));
      assert.equal(Number(row?.balance), 15, 'the commit itself is done');
      // The directory entry first (a new handle), then the WAL.
      while (!done) {
        finish?.();
        await new Promise((resolve) => setImmediate(resolve));
      }
      await tx;
    } finally {
      await t.db.walSync?.close();
      t.db.walSync = real;
    }
  });

  it('on SQLite, syncs the WAL for a transaction that wrote and not for one that only read', async () => {
    if (t.dialect !== 'sqlite') return;
    const real = t.db.walSync;
    assert.ok(real, 'a SQLite file has a WAL syncer');
    let syncs = 0;
    t.db.walSync = new WalSyncer(path.join(t.dataDir, 'quotient.db'), () => {
      syncs++;
      return Promise.resolve();
    });
    try {
      const ann = await accountFor(servicesFor(t.db), { username: 'ann', restricted: false, initialCredit: 10 });
      const before = syncs;
      await runTransaction(t.db, (q) => q.get('SELECT balance FROM accounts WHERE id = ?', [ann]));
      await runTransaction(t.db, (q) => q.all('SELECT id FROM accounts'));
      assert.equal(syncs, before, 'reads have nothing to make durable');
      await runTransaction(t.db, (q) => q.run('UPDATE accounts SET balance = balance + 1 WHERE id = ?', [ann]));
      assert.ok(syncs > before, 'a write waits for a sync');
    } finally {
      await t.db.walSync?.close();
      t.db.walSync = real;
    }
  });

  it('after a transaction that fails, the next one runs, and SQLite is back at synchronous=FULL', async () => {
    await assert.rejects(runTransaction(t.db, (q) => q.run('UPDATE no_such_table SET x = 1')));
    if (t.dialect === 'sqlite') assert.equal(await synchronous(), 2);
    const row = await runTransaction(t.db, (q) => q.get<{ one: number | string }>('SELECT 1 AS one'));
    assert.equal(Number(row?.one), 1);
    if (t.dialect === 'sqlite') assert.equal(await synchronous(), 2);
  });
});
