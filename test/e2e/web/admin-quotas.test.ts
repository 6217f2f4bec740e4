import assert from 'node:assert/strict';
import type { BrowserContext, Page } from 'playwright-core';
import { describeEndToEnd } from '../../utils/databases';
import { screenshotPath, useBrowserSuite } from './browser';

const ADMIN_PASSWORD = 'admin-password-for-tests';
const ZONE = 'America/New_York';

describeEndToEnd('quota schedules managed in the admin pages, in Chromium', (t) => {
  const web = useBrowserSuite(t, { timezone: ZONE });

  beforeEach(async () => {
    await web.primary.services.users.createUser({ username: 'ann', password: 'ann-password-1', initialCredit: 1234 });
    await web.primary.services.users.createUser({ username: 'bob', password: 'bob-password-1', initialCredit: 500 });
    await web.primary.services.groups.create({ name: 'students' });
    await web.primary.services.groups.addMembers('students', ['ann']);
  });

  const signedIn = async (username: string, password: string): Promise<{ page: Page; context: BrowserContext }> => {
    const page = await web.signedIn(username, password);
    return { page, context: page.context() };
  };

  const text = async (page: Page, selector: string): Promise<string> => ((await page.textContent(selector)) ?? '').trim();
  const balance = async (username: string): Promise<number> =>
    (await web.primary.services.users.personalAccount((await web.primary.services.users.getByUsername(username)).id)).balance;

  /** Fills the new-schedule form on /admin/groups and submits it. */
  async function createSchedule(
    page: Page,
    fields: { name: string; for: string; period: string; weekday?: string; cron?: string; amount: string },
  ): Promise<void> {
    await page.goto(`${web.base}/admin/groups`);
    const form = '#new-quota form';
    await page.fill(`${form} input[name=name]`, fields.name);
    await page.selectOption(`${form} select[name=for]`, fields.for);
    await page.selectOption(`${form} select[name=period]`, fields.period);
    if (fields.weekday !== undefined) await page.selectOption(`${form} select[name=weekday]`, { label: fields.weekday });
    if (fields.cron !== undefined) await page.fill(`${form} input[name=cron]`, fields.cron);
    await page.fill(`${form} input[name=amount]`, fields.amount);
    await Promise.all([page.waitForLoadState('load'), page.click(`${form} button[type=submit]`)]);
  }

  it('creates "$2.00 weekly on Monday for students", runs it now once: the student sees exactly +$2.00 once, a second run pays nothing', async () => {
    const admin = await signedIn('admin', ADMIN_PASSWORD);
    await createSchedule(admin.page, { name: 'print-weekly', for: 'students', period: 'weekly', weekday: 'Monday', amount: '2.00' });
    assert.equal(admin.page.url(), `${web.base}/admin/groups`);
    const schedule = '#groups .schedule[data-name="print-weekly"]';
    assert.equal(await text(admin.page, `${schedule} .when`), 'Every Monday at 00:00');
    assert.equal(await text(admin.page, `${schedule} .what`), 'adds $2.00');
    // The next run is the coming Monday 00:00 in the primary's zone, within a week.
    const next = /^Next run: (\d{4})-(\d\d)-(\d\d) 00:00 America\/New_York$/.exec(await text(admin.page, `${schedule} .next`));
    assert.ok(next, 'next run in the primary zone');
    const nextDay = Date.UTC(Number(next[1]), Number(next[2]) - 1, Number(next[3]));
    assert.equal(new Date(nextDay).getUTCDay(), 1);
    assert.ok(nextDay > Date.now() - 86_400_000 && nextDay <= Date.now() + 7 * 86_400_000);
    await admin.page.screenshot({ path: screenshotPath(`admin-quotas-created-${t.dialect}`), fullPage: true });

    await Promise.all([admin.page.waitForURL(/\/admin\/quotas\/print-weekly\/runs\/\d+$/), admin.page.click(`${schedule} form.run-now button`)]);
    const run = (await t.db.knex('quota_runs').first('id', 'period_start')) as { id: number | string; period_start: number | string };
    const periodStart = Number(run.period_start);
    const local = new Intl.DateTimeFormat('en-GB', { timeZone: ZONE, weekday: 'short', hour: '2-digit', minute: '2-digit' }).format(new Date(periodStart));
    assert.equal(local, 'Mon 00:00'); // the period started on the latest Monday at midnight in New York
    const period = `${new Intl.DateTimeFormat('sv-SE', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(periodStart))} 00:00 ${ZONE}`;
    assert.equal(await text(admin.page, '#run-result'), `Run ${Number(run.id)} for the period starting ${period}: Done, 1 user(s) given $2.00 in all.`);
    assert.equal(await balance('ann'), 1434);

    // Again, from the groups page: the same period, nothing more paid.
    await admin.page.goto(`${web.base}/admin/groups`);
    await Promise.all([admin.page.waitForURL(/\?again=1$/), admin.page.click(`${schedule} form.run-now button`)]);
    assert.equal(
      await text(admin.page, '#run-result'),
      `The period starting ${period} already ran (run ${Number(run.id)}: 1 user(s), $2.00). Nothing more was paid.`,
    );
    assert.deepEqual([await balance('ann'), await balance('bob')], [1434, 500]);
    await admin.page.goto(`${web.base}/admin/groups`);
    assert.deepEqual(await admin.page.locator(`${schedule} table.runs tbody td`).allTextContents(), [`${period}run by hand`, 'Done', '1', '$2.00']);

    const ann = await signedIn('ann', 'ann-password-1');
    assert.equal(await text(ann.page, '#balance'), '$14.34');
    await ann.page.goto(`${web.base}/transactions`);
    const rows = await ann.page
      .locator('#transactions tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(1, 4).map((td) => td.textContent ?? '')));
    assert.deepEqual(
      rows.filter((r) => r[0] === 'Quota'),
      [['Quota', '$2.00', '$14.34']],
    );

    const audit = (await t.db.knex('audit_log').where('action', 'like', 'quota.%').orderBy('id').select('actor', 'action', 'target_id')) as {
      actor: string;
      action: string;
      target_id: string;
    }[];
    assert.deepEqual(audit, [
      { actor: 'admin', action: 'quota.create', target_id: 'print-weekly' },
      { actor: 'admin', action: 'quota.run', target_id: 'print-weekly' },
    ]);
  });

  it("refuses a post without the CSRF token with 403 and changes nothing, and shows a bad cron expression's refusal from the catalogue", async () => {
    await web.primary.services.quotas.create({ name: 'print-weekly', group: 'students', period: 'weekly', weekday: 1, mode: 'add', amount: 200 });
    const admin = await signedIn('admin', ADMIN_PASSWORD);
    const post = (path: string, form: Record<string, string>) => admin.context.request.post(`${web.base}${path}`, { form, maxRedirects: 0 });
    const formKey = 'aaaaaaaaaaaaaaaaaaaa';
    assert.equal((await post('/admin/quotas/print-weekly/run', { formKey })).status(), 403);
    assert.equal((await post('/admin/quotas', { formKey, name: 'sneaky', for: '*', period: 'daily', amount: '100.00' })).status(), 403);
    assert.equal((await post('/admin/quotas/print-weekly/remove', { formKey, _csrf: 'not-the-token' })).status(), 403);
    assert.deepEqual(
      (await web.primary.services.quotas.list()).map((q) => q.name),
      ['print-weekly'],
    );
    assert.equal(await balance('ann'), 1234);
    assert.equal(Number(((await t.db.knex('quota_runs').count({ n: '*' }).first()) as { n: number | string }).n), 0);

    // The same post with the page's token goes through (so the 403s above were the token).
    await admin.page.goto(`${web.base}/admin/groups`);
    const csrf = (await admin.page.getAttribute('#new-quota input[name=_csrf]', 'value')) ?? '';
    assert.equal((await post('/admin/quotas/print-weekly/run', { formKey, _csrf: csrf })).status(), 303);
    assert.equal(await balance('ann'), 1434);

    await createSchedule(admin.page, { name: 'mornings', for: '*', period: 'cron', cron: '0 6 * *', amount: '1.00' });
    assert.equal(
      await text(admin.page, '#error-message'),
      'The cron expression must have five valid fields (minute hour day-of-month month day-of-week), such as 0 6 * * 1-5.',
    );
    await createSchedule(admin.page, { name: 'mornings', for: '*', period: 'daily', amount: '-1.00' });
    assert.equal(await text(admin.page, '#error-message'), 'Enter an amount of zero or more, such as 2.00.');
    assert.deepEqual(
      (await web.primary.services.quotas.list()).map((q) => q.name),
      ['print-weekly'],
    );
  });

  it('disables, enables and removes a schedule with its buttons, audited', async () => {
    await web.primary.services.quotas.create({ name: 'net-monthly', allUsers: true, period: 'monthly', dayOfMonth: 1, mode: 'reset', amount: 1000 });
    const admin = await signedIn('admin', ADMIN_PASSWORD);
    await admin.page.goto(`${web.base}/admin/groups`);
    const schedule = '#quotas-everyone .schedule[data-name="net-monthly"]';
    await Promise.all([admin.page.waitForURL(`${web.base}/admin/groups`), admin.page.click(`${schedule} form.toggle button`)]);
    assert.equal(await text(admin.page, `${schedule} strong`), 'net-monthly');
    assert.match(await text(admin.page, schedule), /^net-monthly \(disabled\)/);
    assert.equal(await admin.page.locator(`${schedule} .next`).count(), 0);
    assert.equal((await web.primary.services.quotas.get('net-monthly')).enabled, false);
    await Promise.all([admin.page.waitForURL(`${web.base}/admin/groups`), admin.page.click(`${schedule} form.toggle button`)]);
    assert.equal((await web.primary.services.quotas.get('net-monthly')).enabled, true);
    await Promise.all([admin.page.waitForURL(`${web.base}/admin/groups`), admin.page.click(`${schedule} form.remove button`)]);
    assert.equal(await admin.page.locator(schedule).count(), 0);
    assert.deepEqual(await web.primary.services.quotas.list(), []);
    const actions = (await t.db.knex('audit_log').where('action', 'like', 'quota.%').orderBy('id').pluck('action')) as string[];
    assert.deepEqual(actions, ['quota.disable', 'quota.enable', 'quota.remove']);
  });
});
