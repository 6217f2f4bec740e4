/**
 * The per-printer unknownPageCount rule on the primary, on each dialect: stored with its default,
 * changed through the registry (validated, audited), survives the migration on a database that
 * already holds printers, and reaches the secondary as PrinterConfig with the printer's maximum
 * (its max-pages filter). The secondary's side is test/integration/secondary/print-decisions.test.ts;
 * the whole path through CUPS is test/e2e/cups/unknown-page-count.test.ts.
 */
import assert from 'node:assert/strict';
import { MIGRATIONS } from '../../../primary/db/migrate';
import { printerConfig } from '../../../primary/grpc/cluster-service';
import { createServices, type Services } from '../../../primary/services';
import type { UnknownPageCount } from '../../../primary/printing/printer-registry';
import { describeOnEachDatabase } from '../../utils/databases';

describeOnEachDatabase('the unknownPageCount rule of a printer', (t) => {
  let s: Services;
  let printerId: number;

  beforeEach(async () => {
    s = createServices(t.db);
    printerId = (await s.printers.resolve('print-1', 'lab')).id;
  });

  const config = async () => printerConfig((await s.printers.ofSecondary('print-1'))[0]!);

  it('is hold for a new printer, pushed as HOLD with no maximum', async () => {
    assert.equal((await s.printers.find('print-1/lab')).unknownPageCount, 'hold');
    const c = await config();
    assert.deepEqual([c.queue, c.unknownPageCount, c.unknownPageCountPages], ['lab', 'UNKNOWN_PAGE_COUNT_HOLD', 0]);
  });

  it('changes to charge-maximum with an audit row, and pushes the max-pages filter (capped at the pages a job may have) as the maximum', async () => {
    await s.printers.update(printerId, { unknownPageCount: 'charge-maximum' }, 'test:admin');
    assert.deepEqual([(await config()).unknownPageCount, (await config()).unknownPageCountPages], ['UNKNOWN_PAGE_COUNT_CHARGE_MAXIMUM', 0]);
    await s.printers.update(printerId, { filters: { maxPages: 40 } }, 'test:admin');
    assert.equal((await config()).unknownPageCountPages, 40);
    await s.printers.update(printerId, { filters: { maxPages: 5_000_000 } }, 'test:admin');
    assert.equal((await config()).unknownPageCountPages, 1_000_000);
    const audit = (await t.db.knex('audit_log').where({ target_type: 'printer', action: 'printer.update' }).select('details')) as { details: string }[];
    assert.deepEqual(
      audit.map((a) => JSON.parse(a.details) as unknown),
      [{ unknownPageCount: { from: 'hold', to: 'charge-maximum' } }],
    );
  });

  it('refuses a value it does not know and changes nothing', async () => {
    await assert.rejects(s.printers.update(printerId, { unknownPageCount: 'free' as UnknownPageCount }, 'test:admin'), { code: 'VALIDATION' });
    assert.equal((await s.printers.find('print-1/lab')).unknownPageCount, 'hold');
  });

  it('2026-12-07-0008 gives the printers already there the default, hold', async () => {
    const migration = MIGRATIONS.find(([n]) => n === '2026-12-07-0008-unknown-page-count')?.[1];
    assert.ok(migration);
    await migration.down(t.db.knex);
    try {
      await t.db.knex('printers').insert({
        server_name: 'print-2',
        queue_name: 'old',
        display_name: '',
        location: '',
        device_uri: '',
        filters: '{}',
        created_at: 1,
        updated_at: 1,
        last_seen_at: 1,
      });
    } finally {
      await migration.up(t.db.knex);
    }
    s.printers.forgetPrinters();
    assert.deepEqual(
      (await t.db.knex('printers').orderBy('id').select('queue_name', 'unknown_page_count')).map((r: { queue_name: string; unknown_page_count: string }) => [
        r.queue_name,
        r.unknown_page_count,
      ]),
      [
        ['lab', 'hold'],
        ['old', 'hold'],
      ],
    );
  });
});
