import assert from 'node:assert/strict';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { SQLITE_PRAGMAS } from '../../../primary/db/connection';
import { isUniqueViolation } from '../../../primary/db/errors';
import { MAX_ATTEMPTS, runKnexTransaction, runReads, runTransaction, touchAccounts, type TransactionRetry } from '../../../primary/db/sql-runner';
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

/**
 * The one retry loop, against real conflicts: on SQLite another connection holds the write lock
 * (SQLITE_BUSY once this connection's busy timeout runs out); on MariaDB two transactions lock
 * two rows in opposite orders (ER_LOCK_DEADLOCK, InnoDB rolling back the one that changed less).
 * Each conflict ends when the loop announces its retry, so the next attempt succeeds.
 */
describeOnEachDatabase('runTransaction() and runKnexTransaction(): one retry loop', (t) => {
  /** The two forms, each running `work` with a way to lock a row and to add to a balance. */
  interface Form {
    name: string;
    run(work: (lock: (id: number) => Promise<unknown>, add: (id: number, amount: number) => Promise<unknown>) => Promise<void>): Promise<void>;
  }
  const forms: Form[] = [
    {
      name: 'runTransaction',
      run: (work) =>
        runTransaction(t.db, (tx) =>
          work(
            (id) =>
              tx.dialect === 'mysql'
                ? tx.all('SELECT id FROM accounts WHERE id = ? FOR UPDATE', [id])
                : tx.run('UPDATE accounts SET updated_at = updated_at WHERE id = ?', [id]),
            (id, amount) => tx.run('UPDATE accounts SET balance = balance + ? WHERE id = ?', [amount, id]),
          ),
        ),
    },
    {
      name: 'runKnexTransaction',
      run: (work) =>
        runKnexTransaction(t.db, (trx) =>
          work(
            (id) =>
              t.dialect === 'mysql'
                ? trx('accounts').where({ id }).forUpdate().select('id')
                : trx('accounts')
                    .where({ id })
                    .update({ updated_at: trx.raw('updated_at') }),
            (id, amount) => trx('accounts').where({ id }).increment('balance', amount),
          ),
        ),
    },
  ];

  let retried: TransactionRetry[] = [];
  /** Called with each retry the loop announces; the conflict's other side ends there. */
  let onRetry: (() => Promise<unknown> | void) | undefined;
  const listener = (r: TransactionRetry): void => {
    retried.push(r);
    void onRetry?.();
  };
  beforeEach(() => {
    retried = [];
    onRetry = undefined;
    t.db.events.on('transactionRetry', listener);
  });
  afterEach(() => {
    t.db.events.off('transactionRetry', listener);
  });

  async function balanceOf(id: number): Promise<number> {
    const row = (await t.db.knex('accounts').where({ id }).first('balance')) as { balance: number | string };
    return Number(row.balance);
  }

  const BUSY_TIMEOUT = SQLITE_PRAGMAS.find((p) => p.startsWith('busy_timeout')) ?? '';
  /** On SQLite: a second connection to the same file, and this one giving up on a lock after 20 ms. */
  async function otherSqliteConnection(): Promise<BetterSqlite3.Database> {
    await t.db.knex.raw('PRAGMA busy_timeout = 20');
    return new BetterSqlite3(path.join(t.dataDir, 'quotient.db'));
  }
  afterEach(async () => {
    if (t.dialect === 'sqlite') await t.db.knex.raw(`PRAGMA ${BUSY_TIMEOUT}`);
  });

  for (const form of forms) {
    it(`${form.name} runs again, from the start, a transaction that a lock conflict rolled back`, async () => {
      const s = servicesFor(t.db);
      const ann = await accountFor(s, { username: 'ann', restricted: false, initialCredit: 100 });
      const bob = await accountFor(s, { username: 'bob', restricted: false, initialCredit: 100 });
      let attempts = 0;
      if (t.dialect === 'sqlite') {
        const other = await otherSqliteConnection();
        try {
          other.exec('BEGIN IMMEDIATE');
          other.prepare('UPDATE accounts SET balance = balance + 1 WHERE id = ?').run(bob);
          onRetry = () => void (other.inTransaction && other.exec('COMMIT'));
          await form.run(async (lock, add) => {
            attempts++;
            await lock(ann);
            await add(ann, 5);
          });
        } finally {
          other.close();
        }
        // The prepared form fails at BEGIN IMMEDIATE, before its work; the knex form at its first write.
        assert.equal(attempts, form.name === 'runTransaction' ? 1 : 2);
        assert.deepEqual(retried, [{ attempt: 1, code: 'SQLITE_BUSY' }]);
      } else {
        const cat = await accountFor(s, { username: 'cat', restricted: false, initialCredit: 100 });
        const other = await t.db.knex.transaction();
        // The other transaction changes more rows, so InnoDB chooses this one as the deadlock's victim.
        await other.raw('UPDATE accounts SET balance = balance + 1 WHERE id IN (?, ?)', [bob, cat]);
        let otherDone: Promise<unknown> | undefined;
        await form.run(async (lock, add) => {
          attempts++;
          await lock(ann);
          // First attempt: the other transaction now waits for ann while this one waits for bob.
          if (attempts === 1) otherDone = other.raw('SELECT id FROM accounts WHERE id = ? FOR UPDATE', [ann]).then(() => other.commit());
          await lock(bob);
          await add(ann, 5);
        });
        await otherDone;
        assert.equal(attempts, 2);
        assert.deepEqual(retried, [{ attempt: 1, code: 'ER_LOCK_DEADLOCK' }]);
      }
      assert.deepEqual([await balanceOf(ann), await balanceOf(bob)], [105, 101]);
    });
  }

  it(`gives up after ${MAX_ATTEMPTS} attempts, with the conflict's own error and nothing written`, async function () {
    if (t.dialect !== 'sqlite') this.skip(); // a MariaDB lock wait times out after innodb_lock_wait_timeout (seconds)
    const ann = await accountFor(servicesFor(t.db), { username: 'ann', restricted: false, initialCredit: 100 });
    const other = await otherSqliteConnection();
    try {
      other.exec('BEGIN IMMEDIATE');
      await assert.rejects(
        runTransaction(t.db, (tx) => tx.run('UPDATE accounts SET balance = balance + 5 WHERE id = ?', [ann])),
        { code: 'SQLITE_BUSY' },
      );
      other.exec('ROLLBACK');
    } finally {
      other.close();
    }
    assert.deepEqual(
      retried.map((r) => `${r.attempt} ${String(r.code)}`),
      ['1 SQLITE_BUSY', '2 SQLITE_BUSY', '3 SQLITE_BUSY', '4 SQLITE_BUSY', '5 SQLITE_BUSY', '6 SQLITE_BUSY', '7 SQLITE_BUSY'],
    );
    assert.equal(await balanceOf(ann), 100);
  });

  it('runs a transaction again after a unique-key race in runTransaction, and not in runKnexTransaction', async () => {
    const ann = await accountFor(servicesFor(t.db), { username: 'ann', restricted: false, initialCredit: 100 });
    const { user_id: userId } = (await t.db.knex('accounts').where({ id: ann }).first('user_id')) as { user_id: number };
    const taken = `initial:user:${userId}`;
    const insert = 'INSERT INTO ledger (account_id, amount, balance_after, type, comment, idempotency_key, created_at) VALUES (?, 1, 101, ?, ?, ?, 0)';
    // The first attempt writes a key another transaction has already written; the second finds it.
    let attempts = 0;
    const found = await runTransaction(t.db, async (tx) => {
      attempts++;
      if (attempts === 1) await tx.run(insert, [ann, 'adjustment', '', taken]);
      return tx.get<{ amount: number | string }>('SELECT amount FROM ledger WHERE idempotency_key = ?', [taken]);
    });
    assert.deepEqual(
      [attempts, Number(found?.amount), retried.map((r) => r.code)],
      [2, 100, [t.dialect === 'sqlite' ? 'SQLITE_CONSTRAINT_UNIQUE' : 'ER_DUP_ENTRY']],
    );

    retried = [];
    attempts = 0;
    await assert.rejects(
      runKnexTransaction(t.db, async (trx) => {
        attempts++;
        await trx.raw(insert, [ann, 'adjustment', '', taken]);
      }),
      (err: unknown) => isUniqueViolation(err, 'idempotency_key'),
    );
    assert.deepEqual([attempts, retried], [1, []]);
  });
});

describeOnEachDatabase('runKnexTransaction(): announcing changed accounts', (t) => {
  it('announces the accounts a transaction touched once it commits, and none of a transaction that rolled back', async () => {
    const s = servicesFor(t.db);
    const ann = await accountFor(s, { username: 'ann', restricted: false, initialCredit: 100 });
    const bob = await accountFor(s, { username: 'bob', restricted: false, initialCredit: 100 });
    const announced: number[][] = [];
    const listener = (ids: number[]): void => void announced.push(ids);
    t.db.events.on('accountsChanged', listener);
    try {
      await runKnexTransaction(t.db, async (trx) => {
        await s.ledger.transferWithin(trx, { fromAccountId: bob, toAccountId: ann, amount: 30, key: 'move-1' });
        touchAccounts(trx, [ann]);
        assert.deepEqual(announced, [], 'nothing is announced before the commit');
      });
      await assert.rejects(
        runKnexTransaction(t.db, async (trx) => {
          await s.ledger.postWithin(trx, { accountId: ann, amount: 5, type: 'adjustment', key: 'rolled-back' });
          throw new Error('changed my mind');
        }),
        /changed my mind/,
      );
    } finally {
      t.db.events.off('accountsChanged', listener);
    }
    assert.deepEqual(announced, [[Math.min(ann, bob), Math.max(ann, bob)]]);
    const balances = (await t.db.knex('accounts').whereIn('id', [ann, bob]).orderBy('id').pluck('balance')) as (number | string)[];
    assert.deepEqual(balances.map(Number), ann < bob ? [130, 70] : [70, 130]);
  });

  it('refuses to touch accounts in a knex transaction it does not run, which would never announce them', async () => {
    await t.db.knex.transaction(async (trx) => {
      assert.throws(() => touchAccounts(trx, [1]), /not a transaction of runKnexTransaction/);
    });
  });
});
