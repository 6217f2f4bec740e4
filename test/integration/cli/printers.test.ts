/**
 * `quotient printers list|show|set|filters`, run in process (test/utils/cli.ts) on each dialect:
 * what each change stores, its audit row, and bad input refused with exit 1 and nothing changed.
 */
import assert from 'node:assert/strict';
import { describeOnEachDatabase } from '../../utils/databases';
import { servicesFor } from '../../utils/fixtures';
import { cliAgainst, runCliInProcess } from '../../utils/cli';

describeOnEachDatabase('quotient printers', (t) => {
  const { ok, fails } = cliAgainst(t);
  const PRINTER = 'print-1/library-laser';

  const stored = async (): Promise<{ filters: string; enabled: boolean; charging: boolean; failureMode: string; rateCardId: number | null }> => {
    const r = await t.db.knex('printers').where({ server_name: 'print-1', queue_name: 'library-laser' }).first();
    return { filters: r.filters, enabled: Boolean(r.enabled), charging: Boolean(r.charging_enabled), failureMode: r.failure_mode, rateCardId: r.rate_card_id };
  };

  beforeEach(async () => {
    await servicesFor(t.db).printers.resolve('print-1', 'library-laser', { description: 'Library laser', location: 'Floor 2' });
  });

  it('lists, shows, changes settings and filters, and audits each change', async () => {
    assert.match(await ok('printers', 'list'), /^print-1\/library-laser\s+yes\s+yes\s+charge_later\s+hold\s+Default\s+none$/m);

    assert.match(await ok('printers', 'set', PRINTER, '--failure-mode', 'hold', '--charging', 'no', '--enabled', 'no'), /failure mode\s+hold/);
    const card = await servicesFor(t.db).rateCards.save(
      'Colour A3',
      {
        prices: [
          { paperSize: '*', colour: 'grey', sides: 'simplex', pricePerPage: 5 },
          { paperSize: '*', colour: 'colour', sides: 'simplex', pricePerPage: 25 },
        ],
      },
      'test',
    );
    await ok('printers', 'set', PRINTER, '--rate-card', 'Colour A3', '--enabled', 'yes');
    assert.deepEqual(
      { ...(await stored()), filters: undefined },
      { filters: undefined, enabled: true, charging: false, failureMode: 'hold', rateCardId: card.id },
    );

    const out = await ok(
      'printers',
      'filters',
      PRINTER,
      '--max-pages',
      '50',
      '--max-copies',
      '5',
      '--max-cost',
      '5.00',
      '--greyscale-only',
      '--duplex-only',
      '--paper-sizes',
      'a4,Letter',
      '--name-deny',
      '*.exe,*secret*',
      '--duplicate-window',
      '60',
    );
    assert.equal(
      out.trim(),
      'print-1/library-laser filters: at most 50 pages per job (pages × copies); at most 5 copies per job; at most $5.00 per job; greyscale jobs only; double-sided jobs only (one-page jobs too); paper sizes: A4, Letter; document names refused: *.exe, *secret*; duplicates refused within 60 s',
    );
    assert.deepEqual(JSON.parse((await stored()).filters), {
      maxPages: 50,
      maxCopies: 5,
      maxCost: 500,
      colour: 'greyscaleOnly',
      sides: 'duplexOnly',
      allowedPaperSizes: ['A4', 'Letter'],
      documentNames: { allow: [], deny: ['*.exe', '*secret*'] },
      duplicateWindowSeconds: 60,
    });

    // Options change only what they name; "none" lifts one filter.
    await ok('printers', 'filters', PRINTER, '--max-pages', 'none', '--any-colour', '--name-deny', 'none', '--duplicate-window', '0');
    assert.deepEqual(JSON.parse((await stored()).filters), { maxCopies: 5, maxCost: 500, sides: 'duplexOnly', allowedPaperSizes: ['A4', 'Letter'] });
    assert.match(
      await ok('printers', 'show', PRINTER),
      /^filters\s+at most 5 copies per job\n\s+at most \$5\.00 per job\n\s+double-sided jobs only \(one-page jobs too\)\n\s+paper sizes: A4, Letter$/m,
    );
    const json = JSON.parse(await ok('printers', 'show', PRINTER, '--json')) as { filters: unknown; rateCard: string; displayName: string };
    assert.deepEqual([json.rateCard, json.displayName], ['Colour A3', 'Library laser']);

    await ok('printers', 'filters', PRINTER, '--clear', '--max-copies', '2');
    assert.equal((await stored()).filters, '{"maxCopies":2}');
    await ok('printers', 'filters', PRINTER, '--clear');
    assert.equal((await stored()).filters, '{}');

    const audit = await t.db.knex('audit_log').where({ target_type: 'printer' }).orderBy('id').select('actor', 'action', 'details');
    assert.deepEqual(
      audit.map((a) => a.action),
      ['printer.update', 'printer.update', 'printer.filters', 'printer.filters', 'printer.filters', 'printer.filters'],
    );
    assert.equal(
      audit.every((a) => String(a.actor).startsWith('cli:')),
      true,
    );
    assert.deepEqual(JSON.parse(audit[0].details), {
      failureMode: { from: 'charge_later', to: 'hold' },
      enabled: { from: true, to: false },
      chargingEnabled: { from: true, to: false },
    });
    assert.deepEqual(JSON.parse(audit[5].details), { filters: { from: { maxCopies: 2 }, to: {} } });
  });

  it('sets what a job nobody can count gets, shows what it will do, and audits it', async () => {
    assert.match(await ok('printers', 'show', PRINTER), /^unknown pages\s+hold \(held in CUPS for an administrator, not charged\)$/m);
    assert.match(
      await ok('printers', 'set', PRINTER, '--unknown-page-count', 'charge-maximum'),
      /^unknown pages\s+charge-maximum, but no --max-pages filter is set: such jobs are held$/m,
    );
    await ok('printers', 'filters', PRINTER, '--max-pages', '50');
    assert.match(await ok('printers', 'show', PRINTER), /^unknown pages\s+charge-maximum \(charged as 50 pages, the --max-pages filter\)$/m);
    assert.match(await ok('printers', 'list'), /^print-1\/library-laser\s+yes\s+yes\s+charge_later\s+charge-maximum\s+Default\s+at most 50 pages/m);
    const row = (await t.db.knex('printers').where({ server_name: 'print-1', queue_name: 'library-laser' }).first('unknown_page_count')) as {
      unknown_page_count: string;
    };
    assert.equal(row.unknown_page_count, 'charge-maximum');
    const audit = await t.db.knex('audit_log').where({ target_type: 'printer', action: 'printer.update' }).select('details');
    assert.deepEqual(
      audit.map((a) => JSON.parse(a.details)),
      [{ unknownPageCount: { from: 'hold', to: 'charge-maximum' } }],
    );
    await fails(/argument 'one' is invalid. Allowed choices are hold, charge-maximum/, 'printers', 'set', PRINTER, '--unknown-page-count', 'one');
  });

  it('refuses bad input with a clear message, exit 1, and changes nothing', async () => {
    await ok('printers', 'filters', PRINTER, '--max-pages', '10');
    const before = await stored();
    await fails(/--max-pages must be a whole number from 1 to 10000000000/, 'printers', 'filters', PRINTER, '--max-pages', '0');
    await fails(/--max-pages takes a whole number, or none: "-5"/, 'printers', 'filters', PRINTER, '--max-pages=-5');
    await fails(/--max-pages must be a whole number from 1 to 10000000000/, 'printers', 'filters', PRINTER, '--max-pages', '99999999999999');
    await fails(/--max-copies takes a whole number, or none: "two"/, 'printers', 'filters', PRINTER, '--max-copies', 'two');
    await fails(/--max-cost must not be negative: -1\.00/, 'printers', 'filters', PRINTER, '--max-cost=-1.00');
    await fails(/more than 2 decimal places/, 'printers', 'filters', PRINTER, '--max-cost', '1.005');
    await fails(/--colour-only and --greyscale-only cannot be given together/, 'printers', 'filters', PRINTER, '--colour-only', '--greyscale-only');
    await fails(/--name-deny entry 2 "\*\.\[ch" has a \[ without its closing \]/, 'printers', 'filters', PRINTER, '--name-deny', '*.exe,*.[ch');
    await fails(/--paper-sizes: an empty entry/, 'printers', 'filters', PRINTER, '--paper-sizes', 'A4,,Letter');
    await fails(/--duplicate-window must be a whole number from 1 to 86400/, 'printers', 'filters', PRINTER, '--duplicate-window', '100000');
    await fails(/printer not found: print-1\/nowhere/, 'printers', 'filters', 'print-1/nowhere', '--max-pages', '5');
    await fails(/name a printer as server\/queue/, 'printers', 'show', 'library-laser');
    await fails(/rate card not found: Nope/, 'printers', 'set', PRINTER, '--rate-card', 'Nope');
    await fails(/--enabled takes yes or no: "maybe"/, 'printers', 'set', PRINTER, '--enabled', 'maybe');
    await fails(
      /argument 'sometimes' is invalid. Allowed choices are charge_later, hold, deny, free/,
      'printers',
      'set',
      PRINTER,
      '--failure-mode',
      'sometimes',
    );
    await fails(/nothing to change/, 'printers', 'set', PRINTER);
    assert.deepEqual(await stored(), before);
    assert.equal(
      await t.db
        .knex('audit_log')
        .where({ target_type: 'printer' })
        .count({ n: '*' })
        .first()
        .then((r) => Number(r?.n)),
      1,
    );
  });
});

describe('quotient printers --help', () => {
  it('prints help for each subcommand', async () => {
    for (const args of [
      ['printers', '--help'],
      ['printers', 'list', '--help'],
      ['printers', 'show', '--help'],
      ['printers', 'set', '--help'],
      ['printers', 'filters', '--help'],
    ]) {
      const r = await runCliInProcess(args);
      assert.equal(r.code, 0, args.join(' '));
      assert.match(r.stdout, /^Usage: quotient printers/m);
    }
    assert.match((await runCliInProcess(['printers', 'filters', '--help'])).stdout, /--duplicate-window <seconds>/);
    assert.match((await runCliInProcess(['printers', 'set', '--help'])).stdout, /--unknown-page-count <rule>[\s\S]*\(choices: "hold", "charge-maximum"\)/);
  });
});
