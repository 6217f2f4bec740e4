/**
 * The admin rate-card forms in Chromium, JavaScript off, on each dialect: a card created from the
 * printers page and changed on its own page (a row added, a price changed, a row removed) prices
 * the very next job on its printer exactly; a refused form says why, from the catalogue, and
 * changes nothing; every save is audited with the administrator and the form's one-time key.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { listAudit } from '../../../primary/audit/audit-log';
import { type JobDescription } from '../../../primary/printing/job-events';
import { jobDescription } from '../../utils/fixtures';
import { describeEndToEnd } from '../../utils/databases';
import { screenshotPath, useBrowserSuite } from './browser';

const ADMIN_PASSWORD = 'admin-password-for-tests';

const job = (overrides: Partial<JobDescription> = {}): JobDescription => jobDescription({ documentName: 'notes.pdf', ...overrides });

describeEndToEnd('admin rate-card forms in Chromium', (t) => {
  const web = useBrowserSuite(t);

  beforeEach(async () => {
    await web.primary.services.users.createUser({ username: 'ann', password: 'ann-password-1', restricted: true, initialCredit: 1000 });
  });

  const admin = (): Promise<Page> => web.signedIn('admin', ADMIN_PASSWORD);

  /** What a job costs on library-laser, authorised and printed (so the next one starts clean). */
  async function charge(j: JobDescription): Promise<number> {
    const auth = await web.primary.services.printing.submit({ kind: 'authorize', secondary: 'print-1', job: j });
    assert.equal(auth.kind === 'authorized' && auth.allowed, true, JSON.stringify(auth));
    const done = await web.primary.services.printing.submit({ kind: 'commit', secondary: 'print-1', jobId: j.jobId });
    assert.equal(done.kind, 'committed');
    return done.kind === 'committed' ? done.cost : -1;
  }

  const text = async (page: Page, selector: string): Promise<string> => ((await page.textContent(selector)) ?? '').trim();

  /** Submits the card form and waits for the page it answers with. */
  async function submit(page: Page): Promise<number | undefined> {
    // The navigation's response is the last of its redirects: 200 after a save, 400 when refused.
    const [response] = await Promise.all([page.waitForNavigation(), page.click('#rate-card-form button[type=submit]')]);
    return response?.status();
  }

  it('creates a card from the printers page; adding, changing and removing the A4 greyscale price reprices the next job exactly', async () => {
    assert.equal(await charge(job()), 30); // registers library-laser on the Default card: 3 x 10
    const page = await admin();
    await page.goto(`${web.base}/admin/printers`);
    await Promise.all([page.waitForURL(`${web.base}/admin/rate-cards/new`), page.click('#new-rate-card')]);
    // The two default rows are there, without a price: the administrator must give one.
    assert.deepEqual(await page.locator('#edit-prices input[name$=".size"]').evaluateAll((els) => els.map((e) => (e as unknown as { value: string }).value)), [
      '*',
      '*',
      '',
      '',
      '',
      '',
    ]);
    await page.fill('input[name=name]', 'Library');
    await page.fill('input[name=perJobFee]', '0.01');
    await page.fill('input[name=duplexDiscount]', '20');
    await page.fill('input[name="p0.price"]', '0.10');
    await page.fill('input[name="p1.price"]', '0.50');
    await page.fill('input[name="p2.size"]', 'A4');
    await page.fill('input[name="p2.price"]', '0.08');
    await page.fill('input[name="f0.option"]', 'Staple');
    await page.fill('input[name="f0.price"]', '0.05');
    assert.equal(await submit(page), 200);
    const card = await web.primary.services.rateCards.getByName('Library');
    assert.equal(page.url(), `${web.base}/admin/rate-cards/${card.id}?saved=1`);
    assert.equal(await text(page, '#form-saved'), 'Rate card saved.');
    assert.deepEqual(
      card.card.prices.map((p) => [p.paperSize, p.colour, p.sides, p.pricePerPage]),
      [
        ['*', 'grey', 'simplex', 10],
        ['*', 'colour', 'simplex', 50],
        ['A4', 'grey', 'simplex', 8],
      ],
    );
    assert.deepEqual([card.card.perJobFee, card.card.duplexDiscountBp, card.card.finishings], [1, 2000, [{ option: 'staple', per: 'job', price: 5 }]]);

    // Give library-laser the new card through the registry, which forgets its cached printers at once.
    const printer = (await t.db.knex('printers').where({ queue_name: 'library-laser' }).first('id')) as { id: number };
    await web.primary.services.printers.update(printer.id, { rateCardId: card.id }, 'test');
    assert.equal(await charge(job({ finishings: ['staple'] })), 3 * 8 + 5 + 1);

    // Change the A4 greyscale price: the next job costs exactly the new price, at once.
    await page.goto(`${web.base}/admin/rate-cards/${card.id}`);
    assert.equal(await page.inputValue('input[name="p2.price"]'), '0.08');
    await page.fill('input[name="p2.price"]', '0.07');
    assert.equal(await submit(page), 200);
    assert.deepEqual(await page.locator('#card-prices tbody tr:nth-child(3) td').allTextContents(), ['A4', 'Black and white', 'One-sided', '$0.07']);
    assert.equal(await charge(job()), 3 * 7 + 1);
    // Duplex: 7 less 20 % = 5.6 a page; 5 pages = 28, + fee 1.
    assert.equal(await charge(job({ pages: 5, duplex: true })), 29);
    await page.screenshot({ path: screenshotPath(`admin-rate-card-edit-${t.dialect}`), fullPage: true });

    // Remove the A4 row: A4 falls back to the default row.
    await page.check('input[name="p2.remove"]');
    assert.equal(await submit(page), 200);
    assert.equal(await page.locator('#card-prices tbody tr').count(), 2);
    assert.equal(await charge(job()), 3 * 10 + 1);

    const audit = (await listAudit(t.db.knex, { targetType: 'rate_card', targetId: 'Library' })).reverse();
    assert.deepEqual(
      audit.map((a) => [a.action, a.actor, a.details.via]),
      [
        ['rate_card.create', 'admin', 'web'],
        ['rate_card.update', 'admin', 'web'],
        ['rate_card.update', 'admin', 'web'],
      ],
    );
    assert.equal(new Set(audit.map((a) => a.details.formKey)).size, 3, 'each form has its own one-time key');
  });

  it('refuses a bad price with the reason from the catalogue, keeps what was typed, and changes nothing', async () => {
    const card = await web.primary.services.rateCards.save('Library', {
      prices: [
        { paperSize: '*', colour: 'grey', sides: 'simplex', pricePerPage: 10 },
        { paperSize: '*', colour: 'colour', sides: 'simplex', pricePerPage: 50 },
        { paperSize: 'A4', colour: 'grey', sides: 'simplex', pricePerPage: 8 },
      ],
    });
    const before = await web.primary.services.rateCards.get(card.id);
    const page = await admin();
    await page.goto(`${web.base}/admin/rate-cards/${card.id}`);

    for (const bad of ['-0.08', '0.075', 'ten']) {
      await page.fill('input[name="p2.price"]', bad);
      assert.equal(await submit(page), 400, bad);
      assert.equal(
        await text(page, '#form-error'),
        'Price row 3: the price per page must be an amount of zero or more, such as 0.10, with no more decimals than the currency has.',
      );
      assert.equal(await page.inputValue('input[name="p2.price"]'), bad, 'the form is shown as typed');
    }
    // Other fields, by the field the store names.
    await page.fill('input[name="p2.price"]', '0.08');
    await page.fill('input[name="p3.size"]', 'a4');
    await page.fill('input[name="p3.price"]', '0.09');
    assert.equal(await submit(page), 400);
    assert.equal(await text(page, '#form-error'), 'Price row 4 repeats another row: each paper size, colour and sides may have one price.');
    await page.fill('input[name="p3.size"]', '');
    await page.fill('input[name="p3.price"]', '');
    await page.check('input[name="p0.remove"]');
    assert.equal(await submit(page), 400);
    assert.equal(
      await text(page, '#form-error'),
      'The card needs a one-sided price for paper size * (any other size) in black and white and in colour, and at most 1000 price rows.',
    );
    await page.uncheck('input[name="p0.remove"]');
    await page.fill('input[name=duplexDiscount]', '100.5');
    assert.equal(await submit(page), 400);
    assert.equal(await text(page, '#form-error'), 'The duplex discount must be a percentage from 0 to 100, such as 25 or 12.5.');
    await page.screenshot({ path: screenshotPath(`admin-rate-card-refused-${t.dialect}`), fullPage: true });

    assert.deepEqual(await web.primary.services.rateCards.get(card.id), before);
    assert.deepEqual(await listAudit(t.db.knex, { targetType: 'rate_card', targetId: 'Library' }).then((rows) => rows.map((a) => a.action)), [
      'rate_card.create',
    ]);

    // A name already taken is refused by the "new rate card" form, not silently replaced.
    await page.goto(`${web.base}/admin/rate-cards/new`);
    await page.fill('input[name=name]', 'Library');
    await page.fill('input[name="p0.price"]', '0.01');
    await page.fill('input[name="p1.price"]', '0.01');
    assert.equal(await submit(page), 400);
    assert.equal(await text(page, '#form-error'), 'There is already a rate card with that name; open it from the printers page to change it.');
    assert.deepEqual(await web.primary.services.rateCards.get(card.id), before);
  });

  it('saves a form submitted twice (its one-time key) once, so a replay cannot undo a later change', async () => {
    const card = await web.primary.services.rateCards.save('Library', {
      prices: [
        { paperSize: '*', colour: 'grey', sides: 'simplex', pricePerPage: 10 },
        { paperSize: '*', colour: 'colour', sides: 'simplex', pricePerPage: 50 },
      ],
    });
    const page = await admin();
    await page.goto(`${web.base}/admin/rate-cards/${card.id}`);
    const hidden = async (name: string): Promise<[string, string]> => [name, await page.inputValue(`#rate-card-form input[name=${name}]`)];
    const form: [string, string][] = [
      ...(await Promise.all(['_csrf', 'formKey', 'version', 'priceRows', 'finishingRows', 'perJobFee', 'duplexDiscount'].map(hidden))),
      ['p0.size', '*'],
      ['p0.colour', 'grey'],
      ['p0.sides', 'simplex'],
      ['p0.price', '0.10'],
      ['p1.size', '*'],
      ['p1.colour', 'colour'],
      ['p1.sides', 'simplex'],
      ['p1.price', '0.50'],
    ];
    const post = (fields: [string, string][]): Promise<number> =>
      page.request.post(`${web.base}/admin/rate-cards/${card.id}`, { form: Object.fromEntries(fields), maxRedirects: 0 }).then((r) => r.status());
    const withPrice = (price: string): [string, string][] => form.map(([n, v]) => [n, n === 'p0.price' ? price : v]);

    assert.equal(await post(withPrice('0.12')), 303);
    await web.primary.services.rateCards.save(
      'Library',
      {
        prices: [
          { paperSize: '*', colour: 'grey', sides: 'simplex', pricePerPage: 15 },
          { paperSize: '*', colour: 'colour', sides: 'simplex', pricePerPage: 50 },
        ],
      },
      'cli:someone',
    );
    assert.equal(await post(withPrice('0.12')), 303, 'the replay answers as the first post did');
    assert.equal((await web.primary.services.rateCards.get(card.id)).card.prices[0]?.pricePerPage, 15);
    assert.equal((await listAudit(t.db.knex, { targetType: 'rate_card', targetId: 'Library' })).length, 3);
    // A form without the card version it was made from is refused: nothing changes.
    assert.equal(await post([...form.filter(([n]) => n !== 'version' && n !== 'formKey'), ['formKey', 'another-form-key-0123']]), 400);
    assert.equal((await web.primary.services.rateCards.get(card.id)).card.prices[0]?.pricePerPage, 15);
  });

  it('refuses a save from a page opened before someone else saved the card, shows the card now in use, and keeps what was typed', async () => {
    const prices = (grey: number): { paperSize: string; colour: string; sides: string; pricePerPage: number }[] => [
      { paperSize: '*', colour: 'grey', sides: 'simplex', pricePerPage: grey },
      { paperSize: '*', colour: 'colour', sides: 'simplex', pricePerPage: 50 },
    ];
    const card = await web.primary.services.rateCards.save('Library', { prices: prices(10) });
    assert.equal(await charge(job()), 30); // registers library-laser on the Default card
    const printer = (await t.db.knex('printers').where({ queue_name: 'library-laser' }).first('id')) as { id: number };
    await web.primary.services.printers.update(printer.id, { rateCardId: card.id }, 'test');
    const page = await admin();
    await page.goto(`${web.base}/admin/rate-cards/${card.id}`);
    // Another administrator changes the grey price while this page is open.
    await web.primary.services.rateCards.save('Library', { prices: prices(15) }, 'cli:someone');
    await page.fill('input[name="p0.price"]', '0.12');
    assert.equal(await submit(page), 409);
    assert.equal(
      await text(page, '#form-error'),
      'Someone else saved this rate card after you opened it, so your change was not saved. The card above is the one now in use; your form is below as you typed it: save it again to replace the card.',
    );
    assert.match(await text(page, '#card-prices'), /\$0\.15/, 'the card shown is the one now in use');
    assert.equal(await page.inputValue('input[name="p0.price"]'), '0.12', 'the form is as typed');
    assert.equal(await charge(job({ pages: 1 })), 15, 'the refused save changed no price');
    // Saving again, knowing the other change, replaces the card.
    assert.equal(await submit(page), 200);
    assert.equal(await text(page, '#form-saved'), 'Rate card saved.');
    assert.equal(await charge(job({ pages: 1 })), 12);
    const audit = (await listAudit(t.db.knex, { targetType: 'rate_card', targetId: 'Library' })).reverse();
    assert.deepEqual(
      audit.map((a) => [a.action, a.actor]),
      [
        ['rate_card.create', 'system'],
        ['rate_card.update', 'cli:someone'],
        ['rate_card.update', 'admin'],
      ],
    );
  });
});
