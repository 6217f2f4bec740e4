import assert from 'node:assert/strict';
import type { BrowserContext, Page } from 'playwright-core';
import { MB } from '../../../primary/internet/internet-settings';
import { type JobDescription } from '../../../primary/printing/job-events';
import { jobDescription } from '../../utils/fixtures';
import { localTime } from '../../../primary/quotas/schedule-input';
import { describeEndToEnd } from '../../utils/databases';
import { DESKTOP, PHONE, screenshotPath, signIn as signInAt, useBrowserSuite } from './browser';

const ADMIN_PASSWORD = 'admin-password-for-tests';
const SECONDARY = 'print-1';

const job = jobDescription;

describeEndToEnd('web tools in Chromium', (t) => {
  const web = useBrowserSuite(t);

  beforeEach(async () => {
    await web.primary.services.users.createUser({
      username: 'ann',
      fullName: 'Ann Example',
      password: 'ann-password-1',
      restricted: true,
      initialCredit: 1234,
    });
    await web.primary.services.users.createUser({
      username: 'bob',
      fullName: 'Bob Example',
      password: 'bob-password-1',
      restricted: false,
      initialCredit: 500,
    });
  });

  /**
   * A fresh browser profile (no cookies). JavaScript is off, as the pages need none; the test of
   * hostile names turns it on to prove no script runs (its pages count dialogs: there must be none).
   */
  async function browse(viewport = DESKTOP, javaScriptEnabled = false): Promise<{ page: Page; context: BrowserContext; dialogs: string[] }> {
    const page = await web.newPage({ viewport, javaScriptEnabled });
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    return { page, context: page.context(), dialogs };
  }

  const signIn = (page: Page, username: string, password: string): Promise<void> => signInAt(page, web.base, username, password);

  const text = async (page: Page, selector: string): Promise<string> => ((await page.textContent(selector)) ?? '').trim();

  const charge = async (j: JobDescription): Promise<void> => {
    const auth = await web.primary.services.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: j });
    assert.equal(auth.kind === 'authorized' && auth.allowed, true);
    const done = await web.primary.services.printing.submit({ kind: 'commit', secondary: SECONDARY, jobId: j.jobId });
    assert.equal(done.kind, 'committed');
  };

  it('signs a user in and shows their exact balance and restriction', async () => {
    const { page } = await browse();
    await page.goto(`${web.base}/`);
    assert.equal(page.url(), `${web.base}/signin`);
    await page.screenshot({ path: screenshotPath(`signin-phone-${t.dialect}`) });
    await signIn(page, 'ann', 'ann-password-1');
    assert.equal(await text(page, '#balance'), '$12.34');
    assert.equal(await text(page, '#available'), '$12.34');
    assert.match(await text(page, '#restriction'), /^Restricted/);
    const cookie = (await page.context().cookies()).find((c) => c.name === 'quotient_session');
    assert.equal(cookie?.httpOnly, true);
    assert.equal(cookie?.sameSite, 'Lax');
    // Only a hash of the cookie is stored.
    const stored = (await t.db.knex('web_sessions').pluck('id_hash')) as string[];
    assert.equal(stored.length, 1);
    assert.notEqual(stored[0], cookie?.value);
    await page.screenshot({ path: screenshotPath(`summary-desktop-${t.dialect}`), fullPage: true });
  });

  it('shows a job charged through the primary, with the new balance, and its hostile name as text', async () => {
    await charge(job({ documentName: '<script>alert(1)</script>', pages: 3 }));
    const { page, dialogs } = await browse(PHONE, true);
    await signIn(page, 'ann', 'ann-password-1');
    assert.equal(await text(page, '#balance'), '$12.04'); // 3 grey pages at 10 on the default rate card
    assert.equal(await text(page, '#period-pages'), '3');
    assert.equal(await text(page, '#period-spent'), '$0.30');
    assert.equal(await text(page, '#sheets'), '3');
    assert.equal(await text(page, '#co2'), '15 g'); // 3 sheets at 5 g, not "0 kg"
    assert.equal(await text(page, '#trees'), 'less than 0.001');
    await page.screenshot({ path: screenshotPath(`summary-phone-${t.dialect}`), fullPage: true });
    await page.goto(`${web.base}/jobs`);
    assert.equal(await text(page, '#jobs tbody td.doc'), '<script>alert(1)</script>');
    assert.equal(await page.locator('#jobs script').count(), 0);
    assert.deepEqual(dialogs, []);
    await page.screenshot({ path: screenshotPath(`jobs-phone-${t.dialect}`), fullPage: true });
    await page.goto(`${web.base}/transactions`);
    assert.equal(await text(page, '#transactions tbody tr:first-child td:nth-child(3)'), '-$0.30');
  });

  it('lets a user ask for a refund that an administrator approves, once', async () => {
    await charge(job({ documentName: 'smudged.pdf', pages: 5 }));
    const ann = await browse();
    await signIn(ann.page, 'ann', 'ann-password-1');
    await ann.page.goto(`${web.base}/jobs`);
    await ann.page.fill('#jobs input[name=reason]', 'toner ran out');
    await Promise.all([ann.page.waitForURL(`${web.base}/jobs?done=refund`), ann.page.click('#jobs button[type=submit]')]);
    assert.equal(await text(ann.page, '#jobs tbody td:last-child'), 'Requested');

    const admin = await browse();
    await signIn(admin.page, 'admin', ADMIN_PASSWORD);
    await admin.page.goto(`${web.base}/admin/refunds`);
    assert.equal(await text(admin.page, '#refunds tbody td:nth-child(5)'), '$0.50');
    await admin.page.screenshot({ path: screenshotPath(`admin-refunds-${t.dialect}`), fullPage: true });
    await Promise.all([admin.page.waitForURL(`${web.base}/admin/refunds`), admin.page.click('#refunds button:has-text("Approve")')]);

    await ann.page.goto(`${web.base}/`);
    assert.equal(await text(ann.page, '#balance'), '$12.34');
    const refunds = await t.db.knex('ledger').where({ type: 'refund' });
    assert.deepEqual(
      refunds.map((r: { amount: number | string; actor: string }) => [Number(r.amount), r.actor]),
      [[50, 'admin']],
    );
    assert.equal(
      await t.db
        .knex('audit_log')
        .where({ action: 'refund.approve', actor: 'admin' })
        .count({ n: '*' })
        .first()
        .then((r) => Number(r?.n)),
      1,
    );
    // A second approval (a replayed form) is refused and refunds nothing more.
    const csrf = await admin.page.getAttribute('form.signout input[name=_csrf]', 'value');
    const request = (await t.db.knex('refund_requests').first('id', 'state')) as { id: number; state: string };
    assert.equal(request.state, 'approved');
    const again = await admin.context.request.post(`${web.base}/admin/refunds/${request.id}/approve`, { form: { _csrf: csrf ?? '' }, maxRedirects: 0 });
    assert.equal(again.status(), 409);
    assert.equal(
      await t.db
        .knex('ledger')
        .where({ type: 'refund' })
        .count({ n: '*' })
        .first()
        .then((r) => Number(r?.n)),
      1,
    );
  });

  it('shows a balance an administrator adjusted, and audits the change', async () => {
    const admin = await browse();
    await signIn(admin.page, 'admin', ADMIN_PASSWORD);
    await admin.page.goto(`${web.base}/admin/users?q=ann`);
    await Promise.all([admin.page.waitForURL(/\/admin\/users\/\d+$/), admin.page.click('#users a:has-text("ann")')]);
    const formKey = await admin.page.getAttribute('#adjust input[name=formKey]', 'value');
    const csrf = await admin.page.getAttribute('#adjust input[name=_csrf]', 'value');
    const action = await admin.page.getAttribute('#adjust', 'action');
    await admin.page.fill('#adjust input[name=amount]', '5.00');
    await admin.page.fill('#adjust input[name=comment]', 'library prize');
    await Promise.all([admin.page.waitForLoadState('load'), admin.page.click('#adjust button')]);
    await admin.page.waitForSelector('#balance:has-text("$17.34")');
    await admin.page.screenshot({ path: screenshotPath(`admin-user-${t.dialect}`), fullPage: true });
    // Resubmitting the same form (same one-time key: back button, double click) changes nothing.
    const replay = await admin.context.request.post(`${web.base}${action ?? ''}`, {
      form: { amount: '5.00', comment: 'library prize', formKey: formKey ?? '', _csrf: csrf ?? '' },
      maxRedirects: 0,
    });
    assert.equal(replay.status(), 303);
    assert.equal(
      await t.db
        .knex('ledger')
        .where({ type: 'adjustment' })
        .count({ n: '*' })
        .first()
        .then((r) => Number(r?.n)),
      1,
    );
    const ann = await browse();
    await signIn(ann.page, 'ann', 'ann-password-1');
    assert.equal(await text(ann.page, '#balance'), '$17.34');
    await ann.page.screenshot({ path: screenshotPath(`summary-adjusted-desktop-${t.dialect}`), fullPage: true });
    const audit = await t.db.knex('audit_log').where({ action: 'balance.adjust' }).first();
    assert.equal(audit?.actor, 'admin');
    assert.equal(audit?.target_id, 'ann');
    await charge(job({ username: 'bob', pages: 12 }));
    await admin.page.goto(`${web.base}/admin`);
    assert.equal(await text(admin.page, '#pages-today'), '12');
    await admin.page.screenshot({ path: screenshotPath(`admin-dashboard-${t.dialect}`), fullPage: true });
  });

  it("shows the user their own internet usage with exact MB and cost, and this month's total on the summary", async () => {
    await web.primary.services.internetSettings.set({ costPerMbMilli: 2500 }); // 2.5 minor units per MB
    const at = Date.now() - 60_000;
    const usage = (username: string, bytesIn: number) => ({
      username,
      domain: 'example.com',
      bytesIn,
      bytesOut: 0,
      cacheHitBytes: 0,
      requests: 4,
      firstSeenMs: at,
      lastSeenMs: at + 1000,
    });
    await web.primary.services.internet.report({
      reportId: 'web-r1',
      secondary: 'proxy-1',
      intervalStartMs: at,
      intervalEndMs: at + 300_000,
      lines: [usage('ann', 12 * MB), usage('bob', 40 * MB)],
    });
    await web.primary.services.internet.report({
      reportId: 'web-r2',
      secondary: 'proxy-1',
      intervalStartMs: at,
      intervalEndMs: at + 300_000,
      lines: [usage('bob', 2 * MB)],
    });
    const bobOnly = (await t.db.knex('internet_reports').where({ report_id: 'web-r2' }).first('id')) as { id: number | string };
    const { page } = await browse(PHONE);
    await signIn(page, 'ann', 'ann-password-1');
    assert.equal(await text(page, '#balance'), '$12.04'); // 12 MB at 2.5 = 30
    assert.equal(await text(page, '#period-net-spent'), '$0.30');
    assert.equal(await text(page, '#period-net-mb'), '12.00');
    await page.goto(`${web.base}/internet`);
    assert.deepEqual(await page.locator('#internet tbody tr td.num').allTextContents(), ['12.00', '12.00', '$0.30']);
    await page.screenshot({ path: screenshotPath(`internet-phone-${t.dialect}`), fullPage: true });
    // Bob's report id as the cursor shows only ann's row.
    await page.goto(`${web.base}/internet?before=${Number(bobOnly.id) + 1}`);
    assert.deepEqual(await page.locator('#internet tbody tr td.num').allTextContents(), ['12.00', '12.00', '$0.30']);
    assert.equal(await page.locator('#internet tbody tr').count(), 1);
    assert.doesNotMatch((await page.textContent('main')) ?? '', /40\.00|\$1\.00|\$0\.05/); // bob's 40 MB ($1.00) and 2 MB ($0.05)
  });

  it('lets a user send credit to another when transfers are on, with exact balances on both, clear refusals and an audit entry', async () => {
    const { page, context } = await browse();
    await signIn(page, 'ann', 'ann-password-1');
    // Off (the default): no link, no page.
    assert.equal(await page.locator('nav a[href="/transfers"]').count(), 0);
    assert.equal((await page.goto(`${web.base}/transfers`))?.status(), 404);

    await web.primary.services.settings.set('transfers.enabled', true);
    await web.primary.services.settings.set('transfers.minimum', 100);
    await web.primary.services.settings.set('transfers.maximum', 1000);
    await page.goto(`${web.base}/`);
    await Promise.all([page.waitForURL(`${web.base}/transfers`), page.click('nav a[href="/transfers"]')]);
    assert.equal(await text(page, '#transfer-limits'), 'You can send between $1.00 and $10.00 at a time.');
    const send = async (to: string, amount: string): Promise<number> => {
      await page.fill('#transfer input[name=to]', to);
      await page.fill('#transfer input[name=amount]', amount);
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.url() === `${web.base}/transfers` && r.request().method() === 'POST'),
        page.click('#transfer button'),
      ]);
      await page.waitForLoadState('load');
      return response.status();
    };
    await page.fill('#transfer input[name=comment]', 'for the <b>poster</b>');
    assert.equal(await send('bob', '2.50'), 303);
    assert.equal(page.url(), `${web.base}/transfers?sent=1`);
    assert.equal(await text(page, '#transfer-sent'), 'Transfer sent.');
    assert.equal(await text(page, '#balance'), '$9.84');
    await page.screenshot({ path: screenshotPath(`transfers-desktop-${t.dialect}`), fullPage: true });

    const refusals: [string, string, number, string][] = [
      ['bob', '10.01', 400, 'The largest transfer is $10.00.'],
      ['bob', '0.99', 400, 'The smallest transfer is $1.00.'],
      ['bob', 'ten', 400, 'Enter an amount greater than zero, such as 2.50.'],
      ['ann', '1.00', 400, 'You cannot send credit to yourself.'],
      ['<i>nobody</i>', '1.00', 404, 'There is no user "<i>nobody</i>" who can receive credit.'],
      ['bob', '10.00', 402, 'Your balance is not enough for that transfer.'], // ann is restricted: $9.84 and no overdraft
    ];
    for (const [to, amount, status, message] of refusals) {
      assert.equal(await send(to, amount), status, `${to} ${amount}`);
      assert.equal(await text(page, '#transfer-error'), message);
      assert.equal(await page.inputValue('#transfer input[name=amount]'), amount); // what was typed stays
    }
    // The same form sent again (its one-time key) and a post without the CSRF token move nothing.
    const formKey = (await t.db.knex('ledger').where({ type: 'transfer' }).first('idempotency_key')) as { idempotency_key: string };
    const key = /^web:transfer:\d+:(.+):from$/.exec(formKey.idempotency_key)?.[1] ?? '';
    const csrf = await page.getAttribute('#transfer input[name=_csrf]', 'value');
    const replay = await context.request.post(`${web.base}/transfers`, {
      form: { to: 'bob', amount: '2.50', formKey: key, _csrf: csrf ?? '' },
      maxRedirects: 0,
    });
    assert.equal(replay.status(), 303);
    const forged = await context.request.post(`${web.base}/transfers`, {
      form: { to: 'bob', amount: '2.50', formKey: 'cccccccccccccccccccc' },
      maxRedirects: 0,
    });
    assert.equal(forged.status(), 403);
    await page.goto(`${web.base}/transfers`);
    assert.equal(await text(page, '#balance'), '$9.84');

    const bob = await browse();
    await signIn(bob.page, 'bob', 'bob-password-1');
    assert.equal(await text(bob.page, '#balance'), '$7.50');
    await bob.page.goto(`${web.base}/transactions`);
    assert.deepEqual(
      await bob.page
        .locator('#transactions tbody tr:first-child td')
        .allTextContents()
        .then((c) => c.slice(1)),
      ['Transfer', '$2.50', '$7.50', 'ann → bob: for the <b>poster</b>'],
    );
    const audit = (await t.db.knex('audit_log').where({ action: 'balance.transfer' })) as { actor: string; target_id: string }[];
    assert.deepEqual(
      audit.map((a) => [a.actor, a.target_id]),
      [['ann', 'bob']],
    );
    assert.equal(
      await t.db
        .knex('ledger')
        .where({ type: 'transfer' })
        .count({ n: '*' })
        .first()
        .then((r) => Number(r?.n)),
      2,
    );

    // Turned off again: the form is refused with a message, not a balance change.
    await web.primary.services.settings.set('transfers.enabled', false);
    const late = await context.request.post(`${web.base}/transfers`, {
      form: { to: 'bob', amount: '1.00', formKey: 'dddddddddddddddddddd', _csrf: csrf ?? '' },
      maxRedirects: 0,
    });
    assert.equal(late.status(), 403);
    assert.match(await late.text(), /Transfers between users are turned off\./);
    assert.equal((await web.primary.services.users.personalAccount((await web.primary.services.users.getByUsername('bob')).id)).balance, 750);
  });

  it('shows the compact balance page with whitelisted position and colours and an escaped title', async () => {
    const { page } = await browse({ width: 480, height: 200 });
    await signIn(page, 'bob', 'bob-password-1');
    await page.goto(`${web.base}/widget?title=${encodeURIComponent('<i>Print</i> credit')}&position=bottom-left&bg=navy&fg=yellow`);
    assert.equal(await text(page, '#balance'), '$5.00');
    assert.equal(await text(page, '.widget-title'), '<i>Print</i> credit');
    assert.equal(await page.getAttribute('.widget', 'class'), 'widget pos-bottom-left bg-navy fg-yellow');
    await page.screenshot({ path: screenshotPath(`widget-${t.dialect}`) });
    await page.goto(`${web.base}/widget?position=${encodeURIComponent('x" onload="alert(1)')}&bg=red`);
    assert.equal(await page.getAttribute('.widget', 'class'), 'widget pos-top-right bg-white fg-black');
  });

  it('serves every page with the security headers', async () => {
    const { page } = await browse();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    for (const path of [
      '/signin',
      '/',
      '/jobs',
      '/transactions',
      '/internet',
      '/rates',
      '/widget',
      '/admin',
      '/admin/users',
      '/admin/groups',
      '/admin/printers',
      '/admin/secondaries',
      '/admin/refunds',
      '/admin/audit',
      '/admin/settings',
    ]) {
      const res = await page.goto(`${web.base}${path}`);
      assert.equal(res?.status(), 200, path);
      const h = res?.headers() ?? {};
      assert.equal(h['content-security-policy']?.startsWith("default-src 'self'"), true, path);
      assert.match(h['content-security-policy'] ?? '', /frame-ancestors 'none'/);
      assert.equal(h['x-content-type-options'], 'nosniff');
      assert.equal(h['referrer-policy'], 'same-origin');
      assert.equal(h['cache-control'], 'no-store');
      assert.equal(await page.locator('script').count(), 0, path);
    }
    const health = await page.goto(`${web.base}/healthz`);
    assert.equal(health?.status(), 200);
    const missing = await page.goto(`${web.base}/api/nothing`);
    assert.equal(missing?.status(), 404);
    assert.deepEqual(JSON.parse((await missing?.text()) ?? ''), { error: { code: 'NOT_FOUND', message: 'not found', details: {} } });
  });

  it("lets an administrator set a group's new-user rules, audited", async () => {
    await web.primary.services.groups.create({ name: 'staff', description: 'All staff' });
    const admin = await browse();
    await signIn(admin.page, 'admin', ADMIN_PASSWORD);
    await admin.page.goto(`${web.base}/admin/groups`);
    await admin.page.fill('#groups input[name=initialCredit]', '2.50');
    await admin.page.selectOption('#groups select[name=initialRestricted]', 'no');
    await admin.page.fill('#groups input[name=initialCreditLimit]', '1');
    await Promise.all([admin.page.waitForURL(`${web.base}/admin/groups`), admin.page.click('#groups button')]);
    const g = await web.primary.services.groups.get('staff');
    assert.deepEqual([g.initialCredit, g.initialRestricted, g.initialCreditLimit], [250, false, 100]);
    assert.equal(await admin.page.inputValue('#groups input[name=initialCredit]'), '2.50');
    const audit = await t.db.knex('audit_log').where({ action: 'group.rules' }).first();
    assert.equal(audit?.actor, 'admin');
  });

  it("shows each group's quota schedules with their run history, and the latest runs on the dashboard", async () => {
    await web.primary.services.groups.create({ name: 'staff', description: 'All staff' });
    await web.primary.services.groups.addMembers('staff', ['ann']);
    await web.primary.services.quotas.create({
      name: 'staff-weekly',
      group: 'staff',
      period: 'weekly',
      weekday: 1,
      atTime: '06:00',
      mode: 'add',
      amount: 500,
      cap: 2000,
    });
    await web.primary.services.quotas.create({
      name: 'term-reset',
      allUsers: true,
      period: 'monthly',
      dayOfMonth: 1,
      atTime: '00:00',
      mode: 'reset',
      amount: 1000,
      enabled: false,
    });
    await web.primary.services.quotas.runNow('staff-weekly');
    const admin = await browse();
    await signIn(admin.page, 'admin', ADMIN_PASSWORD);
    await admin.page.goto(`${web.base}/admin/groups`);
    assert.equal(await text(admin.page, '#groups .schedule .when'), 'Every Monday at 06:00');
    assert.equal(await text(admin.page, '#groups .schedule .what'), 'adds $5.00, up to a balance of $20.00');
    // In the primary's time zone (the test primary's is the system's), as the local time the schedule names.
    assert.equal(
      await text(admin.page, '#groups .schedule .next'),
      `Next run: ${localTime(web.primary.services.quotas.nextRuns(await web.primary.services.quotas.get('staff-weekly'), 1)[0] ?? null, web.primary.services.quotas.timezone)} ${web.primary.services.quotas.timezone}`,
    );
    assert.match(await text(admin.page, '#groups .schedule .next'), / 06:00 /);
    assert.deepEqual((await admin.page.locator('#groups table.runs tbody td').allTextContents()).slice(1), ['Done', '1', '$5.00']);
    assert.match(
      await text(admin.page, '#quotas-everyone .schedule'),
      /^term-reset \(disabled\)\s+On day 1 of every month at 00:00 · sets the balance to \$10\.00\s+Run now for the current period\s+Enable\s+Remove\s+No runs yet\.$/,
    );
    await admin.page.screenshot({ path: screenshotPath(`admin-groups-${t.dialect}`), fullPage: true });
    await admin.page.goto(`${web.base}/admin`);
    const cells = await admin.page.locator('#quota-runs tbody tr:first-child td').allTextContents();
    assert.deepEqual([cells[0], cells[2], cells[3], cells[4]], ['staff-weekly', 'Done', '1', '$5.00']);
    const ann = await web.primary.services.users.getByUsername('ann');
    assert.equal((await web.primary.services.users.personalAccount(ann.id)).balance, 1734);
  });

  it("lets an administrator change a printer's rate card, failure mode and unknown page count rule and disable it, audited", async () => {
    await charge(job({ pages: 1 })); // the secondary's first job registers the printer
    await web.primary.services.rateCards.save('Cheap', {
      prices: [
        { paperSize: '*', colour: 'grey', sides: 'simplex', pricePerPage: 5 },
        { paperSize: '*', colour: 'colour', sides: 'simplex', pricePerPage: 25 },
      ],
    });
    const admin = await browse();
    await signIn(admin.page, 'admin', ADMIN_PASSWORD);
    await admin.page.goto(`${web.base}/admin/printers`);
    await admin.page.selectOption('#printers select[name=rateCardId]', { label: 'Cheap' });
    await admin.page.selectOption('#printers select[name=failureMode]', 'deny');
    assert.equal(await admin.page.inputValue('#printers select[name=unknownPageCount]'), 'hold');
    await admin.page.selectOption('#printers select[name=unknownPageCount]', 'charge-maximum');
    await Promise.all([admin.page.waitForURL(`${web.base}/admin/printers`), admin.page.click('#printers form.rules button')]);
    // The next job is priced by the new card at once, not after the printer cache expires.
    const cheapJob = job({ pages: 2 });
    const priced = await web.primary.services.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: cheapJob });
    assert.equal(priced.kind === 'authorized' && priced.cost, 10);
    await web.primary.services.printing.submit({ kind: 'release', secondary: SECONDARY, jobId: cheapJob.jobId, reason: 'test' });
    await Promise.all([admin.page.waitForURL(`${web.base}/admin/printers`), admin.page.click('#printers form.inline button')]);
    const printer = (await t.db.knex('printers').first('enabled', 'failure_mode', 'unknown_page_count', 'rate_card_id')) as {
      enabled: number | boolean;
      failure_mode: string;
      unknown_page_count: string;
      rate_card_id: number;
    };
    const cheap = await web.primary.services.rateCards.getByName('Cheap');
    assert.deepEqual(
      [Boolean(printer.enabled), printer.failure_mode, printer.unknown_page_count, printer.rate_card_id],
      [false, 'deny', 'charge-maximum', cheap.id],
    );
    assert.equal(await admin.page.inputValue('#printers select[name=failureMode]'), 'deny');
    assert.equal(await admin.page.inputValue('#printers select[name=unknownPageCount]'), 'charge-maximum');
    const actions = (await t.db.knex('audit_log').whereIn('action', ['printer.update', 'printer.disable']).orderBy('id').pluck('action')) as string[];
    assert.deepEqual(actions, ['printer.update', 'printer.disable']);
  });

  it('shows an administrator the rows of a rate card with formatted money, and the printers using it', async () => {
    await charge(job({ pages: 1 })); // registers library-laser on the Default card
    const card = await web.primary.services.rateCards.save('Library', {
      prices: [
        { paperSize: '*', colour: 'grey', sides: 'simplex', pricePerPage: 8 },
        { paperSize: '*', colour: 'colour', sides: 'simplex', pricePerPage: 45 },
        { paperSize: 'A3', colour: 'colour', sides: 'duplex', pricePerPage: 1250 },
      ],
      perJobFee: 2,
      duplexDiscountBp: 1250,
      finishings: [{ option: 'staple', per: 'job', price: 10 }],
    });
    const printer = (await t.db.knex('printers').first('id')) as { id: number };
    await t.db.knex('printers').where({ id: printer.id }).update({ rate_card_id: card.id });
    const admin = await browse();
    await signIn(admin.page, 'admin', ADMIN_PASSWORD);
    await admin.page.goto(`${web.base}/admin/printers`);
    await Promise.all([admin.page.waitForURL(`${web.base}/admin/rate-cards/${card.id}`), admin.page.click('#rate-cards a:has-text("Library")')]);
    assert.equal(await text(admin.page, '#card-name'), 'Library');
    assert.equal(await text(admin.page, '#per-job-fee'), '$0.02');
    assert.equal(await text(admin.page, '#duplex-discount'), 'Duplex discount: 12.5% off a simplex price used for a duplex page');
    const rows = await admin.page
      .locator('#card-prices tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    assert.deepEqual(rows, [
      ['Any other size', 'Black and white', 'One-sided', '$0.08'],
      ['Any other size', 'Colour', 'One-sided', '$0.45'],
      ['A3', 'Colour', 'Two-sided', '$12.50'],
    ]);
    assert.deepEqual(await admin.page.locator('#card-finishings tbody td').allTextContents(), ['staple', 'once per job', '$0.10']);
    assert.deepEqual(await admin.page.locator('#card-printers li').allTextContents(), ['library-laser']);
    await admin.page.screenshot({ path: screenshotPath(`admin-rate-card-${t.dialect}`), fullPage: true });
    assert.equal((await admin.page.goto(`${web.base}/admin/rate-cards/999999`))?.status(), 404);
  });

  it('rejects a form post without its CSRF token with 403 and changes nothing', async () => {
    const admin = await browse();
    await signIn(admin.page, 'admin', ADMIN_PASSWORD);
    const ann = await web.primary.services.users.getByUsername('ann');
    const url = `${web.base}/admin/users/${ann.id}/adjust`;
    const without = await admin.context.request.post(url, { form: { amount: '100', comment: 'x', formKey: 'aaaaaaaaaaaaaaaaaaaa' }, maxRedirects: 0 });
    assert.equal(without.status(), 403);
    const wrong = await admin.context.request.post(url, {
      form: { amount: '100', comment: 'x', formKey: 'aaaaaaaaaaaaaaaaaaaa', _csrf: 'not-the-token' },
      maxRedirects: 0,
    });
    assert.equal(wrong.status(), 403);
    const signin = await admin.context.request.post(`${web.base}/signin`, { form: { username: 'ann', password: 'ann-password-1' }, maxRedirects: 0 });
    assert.equal(signin.status(), 403);
    assert.equal((await web.primary.services.users.personalAccount(ann.id)).balance, 1234);
    // The same request with the page's token goes through (so the 403s above were the token).
    await admin.page.goto(`${web.base}/admin/users/${ann.id}`);
    const csrf = await admin.page.getAttribute('#adjust input[name=_csrf]', 'value');
    const ok = await admin.context.request.post(url, {
      form: { amount: '1', comment: 'x', formKey: 'bbbbbbbbbbbbbbbbbbbb', _csrf: csrf ?? '' },
      maxRedirects: 0,
    });
    assert.equal(ok.status(), 303);
    assert.equal((await web.primary.services.users.personalAccount(ann.id)).balance, 1334);
  });

  it('shows a user nothing of another user when ids in URLs and forms are changed', async () => {
    await charge(job({ username: 'bob', documentName: 'bob-secret.pdf', pages: 2 }));
    const bobJob = await t.db.knex('print_jobs').where({ username: 'bob' }).first('id');
    const bobUser = await web.primary.services.users.getByUsername('bob');
    const bobLedger = (await t.db.knex('ledger').max({ id: 'id' }).first()) as { id: number | string };
    const { page, context } = await browse();
    await signIn(page, 'ann', 'ann-password-1');
    const csrf = await page.getAttribute('form.signout input[name=_csrf]', 'value');
    // A refund request for bob's job, with ann's valid token: nothing found, nothing stored.
    const refund = await context.request.post(`${web.base}/jobs/refund`, {
      form: { jobId: String(bobJob?.id), reason: 'mine', _csrf: csrf ?? '' },
      maxRedirects: 0,
    });
    assert.equal(refund.status(), 404);
    assert.equal(
      await t.db
        .knex('refund_requests')
        .count({ n: '*' })
        .first()
        .then((r) => Number(r?.n)),
      0,
    );
    // Paging the ledger with an id from bob's account shows only ann's rows.
    await page.goto(`${web.base}/transactions?before=${Number(bobLedger.id) + 1}`);
    const body = await page.textContent('main');
    assert.doesNotMatch(body ?? '', /bob|\$5\.00|\$4\.80/);
    assert.equal(await page.locator('#transactions tbody tr').count(), 1); // ann's initial credit
    // Admin pages about bob are refused.
    const res = await page.goto(`${web.base}/admin/users/${bobUser.id}`);
    assert.equal(res?.status(), 403);
    assert.doesNotMatch((await page.textContent('main')) ?? '', /bob/i);
    await page.goto(`${web.base}/jobs`);
    assert.doesNotMatch((await page.textContent('main')) ?? '', /bob-secret/);
  });

  it('throttles sign-in after five failures, even with the right password, across restarts', async () => {
    const { page } = await browse();
    for (let i = 0; i < 5; i++) {
      await page.goto(`${web.base}/signin`);
      await page.fill('input[name=username]', 'ann');
      await page.fill('input[name=password]', `wrong-${i}`);
      await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit]')]);
      assert.match(await text(page, '#signin-error'), /not right|Too many/);
    }
    await page.goto(`${web.base}/signin`);
    await page.fill('input[name=username]', 'ann');
    await page.fill('input[name=password]', 'ann-password-1');
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url() === `${web.base}/signin` && r.request().method() === 'POST'),
      page.click('button[type=submit]'),
    ]);
    assert.equal(response.status(), 429);
    assert.match(await text(page, '#signin-error'), /^Too many failed attempts\. Try again in (29|30) seconds\.$/);
    // The count lives in the database: a restarted primary still refuses.
    await web.restart();
    const row = await t.db.knex('web_signin_failures').where({ throttle_key: 'user:ann' }).first();
    assert.equal(Number(row?.failures), 5);
    await page.goto(`${web.base}/signin`);
    await page.fill('input[name=username]', 'ann');
    await page.fill('input[name=password]', 'ann-password-1');
    await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit]')]);
    assert.match(await text(page, '#signin-error'), /^Too many failed attempts/);
    // Another user from the same address is not locked out by ann's failures.
    await page.fill('input[name=username]', 'bob');
    await page.fill('input[name=password]', 'bob-password-1');
    await Promise.all([page.waitForURL(`${web.base}/`), page.click('button[type=submit]')]);
    assert.equal(await text(page, '#balance'), '$5.00');
  });
});
