/**
 * Top-up cards in Chromium: a user redeems a card typed with spaces and the balance shown
 * changes by its value; the same card again, and an unknown one, are refused with their reason
 * and change nothing; the administrator's batch page shows who redeemed the card; `quotient
 * verify` agrees with the books afterwards.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { groupCardNumber } from '../../../primary/cards/card-number';
import { cliAgainst } from '../../utils/cli';
import { describeEndToEnd } from '../../utils/databases';
import { screenshotPath, useBrowserSuite } from './browser';

describeEndToEnd('top-up cards in Chromium', (t) => {
  const web = useBrowserSuite(t);
  const { ok } = cliAgainst(t);

  beforeEach(async () => {
    await web.primary.services.users.createUser({ username: 'ann', password: 'ann-password-1', initialCredit: 250 });
  });

  const text = async (page: Page, selector: string): Promise<string> => ((await page.textContent(selector)) ?? '').trim();

  const submit = async (page: Page, number: string): Promise<number> => {
    await page.fill('#redeem-card input[name="number"]', number);
    const [answer] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.click('#redeem-card button')]);
    await page.waitForLoadState('load');
    return answer.status();
  };

  it('redeems a card once: the balance shown grows by its value, and a second try says it is used', async () => {
    const { numbers } = await web.primary.services.cards.generate({ name: 'Welcome', value: 1000, expiresOn: '2099-12-31', actor: 'admin' }, 2);
    const ann = await web.signedIn('ann', 'ann-password-1');
    await ann.click('nav a[href="/cards"]');
    assert.equal(await text(ann, '#balance'), '$2.50');

    const typed = groupCardNumber(numbers[0]!).replace(/-/g, ' ');
    assert.equal(await submit(ann, typed), 303); // then the page it redirects to
    assert.equal(ann.url(), `${web.base}/cards?amount=1000`);
    assert.equal(await text(ann, '#card-redeemed'), 'Card redeemed: $10.00 added to your balance.');
    assert.equal(await text(ann, '#balance'), '$12.50');
    await ann.screenshot({ path: screenshotPath(`cards-redeemed-${t.dialect}`), fullPage: true });

    assert.equal(await submit(ann, typed), 409);
    assert.equal(await text(ann, '#card-refused'), 'That card has already been redeemed.');
    assert.equal(await submit(ann, '1234567890'), 400);
    assert.equal(await text(ann, '#card-refused'), 'No card has that number. Check it and try again.');
    assert.equal(await text(ann, '#balance'), '$12.50');
    assert.equal(await ann.inputValue('#redeem-card input[name="number"]'), '1234567890', 'a refused number is shown as typed');

    const admin = await web.signedIn('admin', 'admin-password-for-tests');
    await admin.goto(`${web.base}/admin/cards`);
    assert.deepEqual(await admin.locator('#card-batches tbody tr td').allTextContents(), ['Welcome', '$10.00', '2099-12-31', '2', '1', '1', '0', 'Active']);
    await admin.click('#card-batches a');
    const rows = await admin.locator('#cards tbody tr').allTextContents();
    assert.equal(rows.length, 2);
    assert.match(rows[0]!, new RegExp(`^${groupCardNumber(numbers[0]!)}Redeemedann\\d{4}-`));
    await Promise.all([admin.waitForURL(`${web.base}/admin/cards/Welcome?disabled=1`), admin.click('form[action="/admin/cards/Welcome/disable"] button')]);
    assert.equal(await submit(ann, numbers[1]!), 409);
    assert.equal(await text(ann, '#card-refused'), 'That card has been withdrawn; ask the help desk.');

    const ledger = (await t.db.knex('ledger').where({ type: 'card' }).select('amount', 'balance_after', 'actor')) as Record<string, unknown>[];
    assert.deepEqual(
      ledger.map((r) => [Number(r.amount), Number(r.balance_after), r.actor]),
      [[1000, 1250, 'ann']],
    );
    assert.match(await ok('verify'), /^\d+ accounts, \d+ ledger rows: OK$/m);
  });
});
