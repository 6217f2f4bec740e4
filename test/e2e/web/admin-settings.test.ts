import assert from 'node:assert/strict';
import { describeEndToEnd } from '../../utils/databases';
import { screenshotPath, useBrowserSuite } from './browser';

describeEndToEnd('admin settings in Chromium', (t) => {
  const web = useBrowserSuite(t);

  beforeEach(async () => {
    await web.primary.services.users.createUser({ username: 'ann', password: 'ann-password-1', initialCredit: 1000 });
  });

  const { signedIn } = web;
  const stored = async (): Promise<string[]> =>
    ((await t.db.knex('settings').orderBy('key').select('key', 'value')) as { key: string; value: string }[]).map((r) => `${r.key}=${r.value}`);

  it('shows on/off settings as checkboxes, saves nothing of a refused form and keeps it as typed, then saves it whole', async () => {
    const admin = await signedIn('admin', 'admin-password-for-tests');
    await admin.goto(`${web.base}/admin/settings`);
    assert.equal(await admin.isChecked('#settings input[name="transfers.enabled"]'), false);
    assert.equal(await admin.isChecked('#settings input[name="users.newUserRestricted"]'), true);
    await admin.check('#settings input[name="transfers.enabled"]');
    await admin.fill('#settings input[name="currency.symbol"]', '€');
    await admin.fill('#settings input[name="transfers.maximum"]', '-5');
    const [refused] = await Promise.all([admin.waitForResponse((r) => r.request().method() === 'POST'), admin.click('#settings button')]);
    await admin.waitForLoadState('load');
    assert.equal(refused.status(), 400);
    assert.equal(((await admin.textContent('#settings-error')) ?? '').trim(), 'That did not work: check transfers.maximum.');
    assert.equal(await admin.inputValue('#settings input[name="currency.symbol"]'), '€');
    assert.equal(await admin.inputValue('#settings input[name="transfers.maximum"]'), '-5');
    assert.equal(await admin.isChecked('#settings input[name="transfers.enabled"]'), true);
    await admin.screenshot({ path: screenshotPath(`admin-settings-refused-${t.dialect}`), fullPage: true });
    assert.deepEqual(await stored(), []);

    await admin.fill('#settings input[name="transfers.maximum"]', '500');
    await admin.uncheck('#settings input[name="users.newUserRestricted"]');
    await Promise.all([admin.waitForURL(`${web.base}/admin/settings?saved=1`), admin.click('#settings button')]);
    assert.deepEqual(await stored(), ['currency.symbol="€"', 'transfers.enabled=true', 'transfers.maximum=500', 'users.newUserRestricted=false']);
    assert.equal(await admin.isChecked('#settings input[name="transfers.enabled"]'), true);
    const ann = await signedIn('ann', 'ann-password-1');
    assert.equal(((await ann.textContent('#balance')) ?? '').trim(), '€10.00');
    assert.equal(await ann.locator('nav a[href="/transfers"]').count(), 1);
  });
});
