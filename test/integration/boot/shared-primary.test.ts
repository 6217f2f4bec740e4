/**
 * One primary shared by a describe (test/utils/primary.ts sharedPrimary): after its tables are
 * emptied under it, RunningPrimary.tablesEmptied() makes it what a fresh start would be, so no
 * test meets what an earlier one cached.
 */
import assert from 'node:assert/strict';
import { truncateAll } from '../../../primary/db/schema';
import { verifyPassword } from '../../../primary/users/passwords';
import { describeOnEachDatabase } from '../../utils/databases';
import { sharedPrimary } from '../../utils/primary';

describeOnEachDatabase('a primary whose tables are emptied while it runs', (t) => {
  const shared = sharedPrimary(t);

  it('forgets the settings, printers and secondaries it cached, and creates the administrator again', async () => {
    const { services, secondaries } = shared.primary;
    await services.settings.set('currency.symbol', '€');
    assert.equal(await services.settings.get('currency.symbol'), '€');
    await secondaries.register(
      { name: 'print-1', role: 'print', version: '0.1.0', host: 'printsrv', printers: [{ queue: 'lab', description: 'Lab', location: '', deviceUri: '' }] },
      '127.0.0.1',
    );
    assert.equal(await secondaries.isRegistered('print-1'), true);
    const before = await services.printers.resolve('print-1', 'lab');

    await truncateAll(t.db.knex);
    await shared.primary.tablesEmptied();

    assert.equal(await services.settings.get('currency.symbol'), '$');
    assert.equal(await secondaries.isRegistered('print-1'), false);
    const after = await services.printers.resolve('print-1', 'lab');
    assert.notEqual(after.id, before.id);
    assert.deepEqual(await t.db.knex('printers').pluck('id'), [after.id]);
    const admins = (await t.db.knex('users').where({ is_admin: true }).select('username', 'password_hash')) as { username: string; password_hash: string }[];
    assert.deepEqual(
      admins.map((a) => a.username),
      ['admin'],
    );
    assert.equal(await verifyPassword('admin-password-for-tests', admins[0]?.password_hash ?? null), true);
  });
});
