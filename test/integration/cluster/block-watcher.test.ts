import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describeOnEachDatabase } from '../../utils/databases';
import { accountFor, servicesFor } from '../../utils/fixtures';
import { createLogger } from '../../../common/logger';
import { BlockWatcher, type BlockChange } from '../../../primary/cluster/block-watcher';

describeOnEachDatabase('BlockWatcher', (t) => {
  it('starts from the blocked restricted users and follows committed money changes', async () => {
    const s = servicesFor(t.db);
    await accountFor(s, { username: 'zero', restricted: true });
    await accountFor(s, { username: 'free', restricted: false });
    const ok = await accountFor(s, { username: 'ok', restricted: true, initialCredit: 50, creditLimit: 20 });
    const watcher = new BlockWatcher({ db: t.db, settings: s.settings, logger: createLogger('test', 'silent'), resyncMs: 60_000 });
    await watcher.start();
    try {
      assert.deepEqual(watcher.snapshot(), ['zero']);
      const blocked = once(watcher.events, 'change');
      await s.ledger.debit({ accountId: ok, amount: 70, type: 'print', key: 'd1' }); // exactly at -20: blocked
      assert.deepEqual((await blocked)[0] as BlockChange, { username: 'ok', blocked: true, reason: 'no credit left' });
      assert.deepEqual(watcher.snapshot(), ['ok', 'zero']);
    } finally {
      watcher.stop();
    }
  });

  it('catches changes made by another process on its periodic resynchronisation', async () => {
    const s = servicesFor(t.db);
    const acc = await accountFor(s, { username: 'cli-topped', restricted: true });
    const watcher = new BlockWatcher({ db: t.db, settings: s.settings, logger: createLogger('test', 'silent'), resyncMs: 50 });
    await watcher.start();
    try {
      assert.deepEqual(watcher.snapshot(), ['cli-topped']);
      const unblocked = once(watcher.events, 'change');
      // As another process would: straight to the database, no event in this one.
      await t.db.knex('accounts').where({ id: acc }).update({ balance: 500 });
      assert.deepEqual((await unblocked)[0] as BlockChange, { username: 'cli-topped', blocked: false, reason: '' });
    } finally {
      watcher.stop();
    }
  });
});
