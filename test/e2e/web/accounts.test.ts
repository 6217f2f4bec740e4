/**
 * Shared accounts in Chromium: a user with access to two shared accounts sees both on /accounts
 * with their balances, makes the second one active, and the next print job (authorised and
 * committed through the primary's print service, as a secondary's would be) is charged to it:
 * one ledger row on that account, and the page shows its new balance and the job.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { describeEndToEnd } from '../../utils/databases';
import { printJob, registerPrintSecondary } from '../../utils/print-jobs';
import { screenshotPath, useBrowserSuite } from './browser';

describeEndToEnd('shared accounts in Chromium', (t) => {
  const web = useBrowserSuite(t);

  beforeEach(async () => {
    await web.primary.services.users.createUser({ username: 'ann', password: 'ann-password-1', initialCredit: 250 });
    await registerPrintSecondary(web.primary);
  });

  const text = async (page: Page, selector: string): Promise<string> => ((await page.textContent(selector)) ?? '').trim();

  it('switches the active account, and the next job is charged to it and shown with its new balance', async () => {
    const ids: number[] = [];
    for (const [name, amount] of [
      ['Biology', 1000],
      ['Zoology', 2000],
    ] as const) {
      const account = await web.primary.services.accounts.create({ name }, 'admin');
      await web.primary.services.accounts.grant(name, { user: 'ann' }, 'admin');
      await web.primary.services.balances.adjust({ accountId: account.id, amount, comment: 'budget', key: `e2e:fund:${name}`, actor: 'admin' });
      ids.push(account.id);
    }
    const [biology = 0, zoology = 0] = ids;
    const ann = await web.signedIn('ann', 'ann-password-1');
    await ann.click('nav a[href="/accounts"]');
    assert.equal(await text(ann, `#account-${biology} .balance`), '$10.00');
    assert.equal(await text(ann, `#account-${zoology} .balance`), '$20.00');
    assert.equal(await text(ann, `#account-${biology} .active-mark`), 'Active account', 'the first shared account by name, before any choice');

    await ann.check(`#account-${zoology} input[name="account"]`);
    await Promise.all([ann.waitForURL(`${web.base}/accounts?changed=1`), ann.click('#active-account button[type="submit"]')]);
    assert.equal(await text(ann, '#active-changed'), 'Your active account has been changed.');
    assert.equal(await text(ann, `#account-${zoology} .active-mark`), 'Active account');
    assert.equal(await ann.locator(`#account-${biology} .active-mark`).count(), 0);

    const job = await printJob(web.primary, { documentName: 'field-notes.pdf', pages: 3 });

    const rows = (await t.db.knex('ledger').where({ type: 'print' }).select('account_id', 'amount', 'balance_after', 'idempotency_key')) as Record<
      string,
      unknown
    >[];
    assert.deepEqual(
      rows.map((r) => [Number(r.account_id), Number(r.amount), Number(r.balance_after), r.idempotency_key]),
      [[zoology, -30, 1970, `print:${job.jobId}`]],
    );
    await ann.reload();
    assert.equal(await text(ann, `#account-${zoology} .balance`), '$19.70');
    assert.equal(await text(ann, `#account-${biology} .balance`), '$10.00');
    assert.deepEqual(await ann.locator(`#account-${zoology} .charges td.doc`).allTextContents(), ['field-notes.pdf']);
    await ann.screenshot({ path: screenshotPath(`accounts-active-${t.dialect}`), fullPage: true });
  });
});
