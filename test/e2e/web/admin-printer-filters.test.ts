import assert from 'node:assert/strict';
import { type JobDescription } from '../../../primary/printing/job-events';
import { jobDescription } from '../../utils/fixtures';
import { describeEndToEnd } from '../../utils/databases';
import { screenshotPath, useBrowserSuite } from './browser';

const SECONDARY = 'print-1';

const job = (overrides: Partial<JobDescription> = {}): JobDescription => jobDescription({ documentName: 'thesis.pdf', pages: 6, ...overrides });

describeEndToEnd('admin printer filters in Chromium', (t) => {
  const web = useBrowserSuite(t);

  beforeEach(async () => {
    await web.primary.services.users.createUser({ username: 'ann', password: 'ann-password-1', restricted: true, initialCredit: 1000 });
    await web.primary.services.printers.resolve(SECONDARY, 'library-laser', { description: 'Library laser' });
  });

  const { signedIn } = web;

  it("sets a max-pages filter that the charge path enforces, with the reason on the user's jobs page", async () => {
    const admin = await signedIn('admin', 'admin-password-for-tests');
    await admin.goto(`${web.base}/admin/printers`);
    await Promise.all([admin.waitForURL(/\/admin\/printers\/\d+\/filters$/), admin.click('#printers a.filters')]);
    assert.equal(((await admin.textContent('#filters')) ?? '').trim(), 'None: every job may print.');
    await admin.fill('#filters-form input[name=maxPages]', '5');
    await Promise.all([admin.waitForURL(/\/filters\?saved=1$/), admin.click('#filters-form button')]);
    assert.equal(((await admin.textContent('#filters')) ?? '').trim(), 'More than 5 pages per job');
    assert.equal(await admin.inputValue('#filters-form input[name=maxPages]'), '5');
    await admin.screenshot({ path: screenshotPath(`admin-printer-filters-${t.dialect}`), fullPage: true });

    const audit = await t.db.knex('audit_log').where({ action: 'printer.filters' }).first();
    assert.deepEqual(
      [audit?.actor, audit?.target_id, JSON.parse(audit?.details ?? '{}')],
      ['admin', `${SECONDARY}/library-laser`, { filters: { from: {}, to: { maxPages: 5 } } }],
    );

    const big = job({ pages: 6 });
    assert.deepEqual(await web.primary.services.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: big }), {
      kind: 'authorized',
      jobId: big.jobId,
      allowed: false,
      reason: 'this job has 6 pages; this printer allows at most 5 per job',
      cost: 60,
      charged: true,
    });
    const small = job({ pages: 5, documentName: 'abstract.pdf' });
    assert.equal((await web.primary.services.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: small })).kind, 'authorized');
    await web.primary.services.printing.submit({ kind: 'commit', secondary: SECONDARY, jobId: small.jobId });

    const ann = await signedIn('ann', 'ann-password-1');
    assert.equal(((await ann.textContent('#balance')) ?? '').trim(), '$9.50');
    await ann.goto(`${web.base}/jobs`);
    const rows = await ann
      .locator('#jobs tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [tr.querySelector('td.doc')?.textContent ?? '', tr.querySelector('td.status')?.textContent ?? '']));
    assert.deepEqual(rows, [
      ['abstract.pdf', 'Printed'],
      ['thesis.pdf', 'Deniedthis job has 6 pages; this printer allows at most 5 per job'],
    ]);
    assert.equal(((await ann.textContent('#jobs .reason')) ?? '').trim(), 'this job has 6 pages; this printer allows at most 5 per job');
  });

  it('shows a refused form again as typed, with the message from the catalogue, and changes nothing', async () => {
    const admin = await signedIn('admin', 'admin-password-for-tests');
    const printer = await web.primary.services.printers.find(`${SECONDARY}/library-laser`);
    await admin.goto(`${web.base}/admin/printers/${printer.id}/filters`);
    await admin.fill('#filters-form input[name=maxPages]', '0');
    await admin.fill('#filters-form input[name=nameDeny]', '*.exe, *.[ch');
    await Promise.all([admin.waitForLoadState('load'), admin.click('#filters-form button')]);
    assert.equal(
      ((await admin.textContent('#filters-error')) ?? '').trim(),
      'Enter the most pages as a whole number from 1 to 10,000,000,000, or leave it blank.',
    );
    assert.equal(await admin.inputValue('#filters-form input[name=nameDeny]'), '*.exe, *.[ch');
    await admin.fill('#filters-form input[name=maxPages]', '');
    await Promise.all([admin.waitForLoadState('load'), admin.click('#filters-form button')]);
    assert.equal(
      ((await admin.textContent('#filters-error')) ?? '').trim(),
      'Check the names to refuse: each glob must be complete (a [ needs its ]), at most 200 characters, at most 50 of them.',
    );
    assert.equal((await t.db.knex('printers').where({ id: printer.id }).first()).filters, '{}');
    assert.equal(
      await t.db
        .knex('audit_log')
        .where({ action: 'printer.filters' })
        .count({ n: '*' })
        .first()
        .then((r) => Number(r?.n)),
      0,
    );
  });
});
