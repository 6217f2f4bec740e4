import assert from 'node:assert/strict';
import { describeOnEachDatabase } from '../../utils/databases';
import { accountFor, jobDescription } from '../../utils/fixtures';
import { createServices, type Services } from '../../../primary/services';
import { type JobDescription } from '../../../primary/printing/job-events';
import { parseFilters } from '../../../primary/printing/printer-filters';

const SECONDARY = 'print-1';
const QUEUE = 'library-laser';
const T0 = Date.UTC(2027, 0, 11, 9, 0, 0);

const job = (overrides: Partial<JobDescription> = {}): JobDescription => jobDescription({ queue: QUEUE, ...overrides });

describeOnEachDatabase('PrintJobService with printer filters', (t) => {
  let s: Services;
  let clock: number;
  let printerId: number;

  beforeEach(async () => {
    clock = T0;
    s = createServices(t.db, { now: () => clock });
    await accountFor(s, { username: 'ann', restricted: true, initialCredit: 1000 });
    printerId = (await s.printers.resolve(SECONDARY, QUEUE)).id;
  });

  const setFilters = (filters: unknown): Promise<unknown> => s.printers.update(printerId, { filters: parseFilters(filters) }, 'test:admin');
  const authorize = (j: JobDescription) => s.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: j });
  const answer = async (j: JobDescription): Promise<{ allowed: boolean; reason: string }> => {
    const o = await authorize(j);
    if (o.kind !== 'authorized') throw new Error(`not an authorisation: ${o.kind}`);
    return o;
  };
  const balance = async (): Promise<[number, number]> => {
    const a = await s.users.personalAccount((await s.users.getByUsername('ann')).id);
    return [a.balance, a.reserved];
  };
  const jobRow = (jobId: string) => t.db.knex('print_jobs').where({ job_uuid: jobId }).first('status', 'reason', 'cost', 'reservation_id');

  it('denies a job over the page limit before reserving: denied row with its cost, nothing held', async () => {
    await setFilters({ maxPages: 10 });
    const big = job({ pages: 4, copies: 3 });
    assert.deepEqual(await authorize(big), {
      kind: 'authorized',
      jobId: big.jobId,
      allowed: false,
      reason: 'this job has 12 pages (4 × 3 copies); this printer allows at most 10 per job',
      cost: 120,
      charged: true,
    });
    const row = await jobRow(big.jobId);
    assert.deepEqual(
      [row.status, row.reason, Number(row.cost), row.reservation_id],
      ['denied', 'this job has 12 pages (4 × 3 copies); this printer allows at most 10 per job', 120, null],
    );
    assert.deepEqual(await balance(), [1000, 0]);
    assert.equal(
      await t.db
        .knex('reservations')
        .count({ n: '*' })
        .first()
        .then((r) => Number(r?.n)),
      0,
    );
    // A retry of the denied job gets the same answer, and a commit of it is refused.
    assert.deepEqual(await authorize(big), { kind: 'authorized', jobId: big.jobId, allowed: false, reason: row.reason, cost: 120, charged: true });
    await assert.rejects(s.printing.submit({ kind: 'commit', secondary: SECONDARY, jobId: big.jobId }), { code: 'INVALID_STATE' });

    const ok = job({ pages: 5, copies: 2 });
    assert.deepEqual(await authorize(ok), { kind: 'authorized', jobId: ok.jobId, allowed: true, reason: '', cost: 100, charged: true });
    assert.deepEqual(await balance(), [1000, 100]);
    await s.printing.submit({ kind: 'commit', secondary: SECONDARY, jobId: ok.jobId });
    assert.deepEqual(await balance(), [900, 0]);
    assert.deepEqual((await s.ledger.verify()).problems, []);
  });

  it('denies by copies, cost, colour, sides, paper size and document name, each with its reason', async () => {
    await setFilters({
      maxCopies: 2,
      maxCost: 100,
      colour: 'greyscaleOnly',
      sides: 'simplexOnly',
      allowedPaperSizes: ['A4'],
      documentNames: { deny: ['*.exe', '*secret*'] },
    });
    const cases: [Partial<JobDescription>, string, number][] = [
      [{ copies: 3 }, 'this printer allows at most 2 copies per job; this job asks for 3', 90],
      [{ pages: 11 }, 'this job costs $1.10; this printer allows at most $1.00 per job', 110],
      [{ colourPages: 1 }, 'this printer prints in greyscale only; print the job in black and white', 70],
      [{ duplex: true }, 'this printer prints single-sided only; choose one-sided printing', 30],
      [{ paperSize: 'na_letter_8.5x11in' }, 'this printer does not take Letter paper; it takes A4', 30],
      [{ documentName: 'SETUP.EXE' }, 'documents named "SETUP.EXE" may not be printed on this printer', 30],
      [{ documentName: 'My Secret.docx' }, 'documents named "My Secret.docx" may not be printed on this printer', 30],
    ];
    for (const [overrides, reason, cost] of cases) {
      const j = job(overrides);
      assert.deepEqual(await authorize(j), { kind: 'authorized', jobId: j.jobId, allowed: false, reason, cost, charged: true }, reason);
    }
    assert.deepEqual(await balance(), [1000, 0]);
    assert.deepEqual(
      (await t.db.knex('print_jobs').orderBy('id').select('status')).map((r) => r.status),
      Array(cases.length).fill('denied'),
    );
    const fine = job({ pages: 10, copies: 1, paperSize: 'iso_a4_210x297mm', documentName: 'notes.pdf' });
    assert.deepEqual(await authorize(fine), { kind: 'authorized', jobId: fine.jobId, allowed: true, reason: '', cost: 100, charged: true });
  });

  it('restricts a passthrough printer too, which records but never charges', async () => {
    await s.printers.update(printerId, { chargingEnabled: false, filters: parseFilters({ maxPages: 2 }) }, 'test:admin');
    const j = job({ pages: 3 });
    assert.deepEqual(await authorize(j), {
      kind: 'authorized',
      jobId: j.jobId,
      allowed: false,
      reason: 'this job has 3 pages; this printer allows at most 2 per job',
      cost: 30,
      charged: false,
    });
    assert.deepEqual(await balance(), [1000, 0]);
  });

  it('denies a duplicate (same user, printer, name and pages) within the window, and nothing else', async () => {
    await setFilters({ duplicateWindowSeconds: 60 });
    const first = job();
    await authorize(first);
    await s.printing.submit({ kind: 'commit', secondary: SECONDARY, jobId: first.jobId });
    assert.deepEqual(await balance(), [970, 0]);

    clock = T0 + 30_000;
    const again = job();
    assert.deepEqual(await authorize(again), {
      kind: 'authorized',
      jobId: again.jobId,
      allowed: false,
      reason: 'duplicate of a job printed 30 s ago',
      cost: 30,
      charged: true,
    });
    // Not duplicates: another name, another page count, another user, the same CUPS job restarted.
    const other = job({ documentName: 'Essay.pdf' });
    const longer = job({ pages: 4 });
    assert.equal((await answer(other)).allowed, true);
    assert.equal((await answer(longer)).allowed, true);
    await accountFor(s, { username: 'bob', restricted: false });
    const bobs = job({ username: 'bob' });
    assert.equal((await answer(bobs)).allowed, true);
    assert.deepEqual(await authorize(first), { kind: 'authorized', jobId: `${first.jobId}#2`, allowed: true, reason: '', cost: 30, charged: true });

    // A job still authorised (printing) counts; a cancelled or denied one does not.
    clock = T0 + 200_000;
    const printing = job({ documentName: 'poster.pdf', pages: 1 });
    await authorize(printing);
    clock += 5_000;
    const dup = job({ documentName: 'poster.pdf', pages: 1 });
    assert.equal((await answer(dup)).reason, 'duplicate of a job printed 5 s ago');
    await s.printing.submit({ kind: 'release', secondary: SECONDARY, jobId: printing.jobId, reason: 'cancelled by the user' });
    const afterCancel = job({ documentName: 'poster.pdf', pages: 1 });
    assert.equal((await answer(afterCancel)).allowed, true);

    // Past the window the same document prints again.
    clock = T0 + 61_000 + 300_000;
    const later = job();
    assert.deepEqual(await authorize(later), { kind: 'authorized', jobId: later.jobId, allowed: true, reason: '', cost: 30, charged: true });
  });

  it('measures the window between submission times when the secondary sends them', async () => {
    await setFilters({ duplicateWindowSeconds: 60 });
    const first = job({ submittedAt: T0 - 100_000 });
    await authorize(first);
    const second = job({ submittedAt: T0 - 55_000 });
    assert.equal((await answer(second)).reason, 'duplicate of a job printed 45 s ago');
    const third = job({ submittedAt: T0 + 1_000 });
    assert.equal((await answer(third)).allowed, true, 'printed 101 s after the first');
  });

  it('refuses every job on a printer whose stored filters cannot be read', async () => {
    await t.db.knex('printers').where({ id: printerId }).update({ filters: '{"maxPages":-3}' });
    const fresh = createServices(t.db, { now: () => clock });
    const j = job();
    assert.deepEqual(await fresh.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: j }), {
      kind: 'authorized',
      jobId: j.jobId,
      allowed: false,
      reason: "this printer's restrictions cannot be read; ask an administrator",
      cost: 0,
      charged: true,
    });
  });

  it('audits a change of filters with what it was and what it became, and skips a change to the same', async () => {
    await setFilters({ maxPages: 10 });
    await setFilters({ maxPages: 10 });
    await s.printers.update(printerId, { filters: {}, enabled: false }, 'test:admin');
    const rows = await t.db.knex('audit_log').where({ target_type: 'printer' }).orderBy('id').select('actor', 'action', 'target_id', 'details');
    assert.deepEqual(
      rows.map((r) => [r.actor, r.action, r.target_id, JSON.parse(r.details)]),
      [
        ['test:admin', 'printer.filters', `${SECONDARY}/${QUEUE}`, { filters: { from: {}, to: { maxPages: 10 } } }],
        ['test:admin', 'printer.update', `${SECONDARY}/${QUEUE}`, { enabled: { from: true, to: false }, filters: { from: { maxPages: 10 }, to: {} } }],
      ],
    );
    assert.equal((await t.db.knex('printers').where({ id: printerId }).first()).filters, '{}');
  });
});
