/**
 * Authorisations that no commit or release follows are expired after printing.authorisationTimeout
 * (primary/printing/authorisation-expiry.ts): the hold is released with an audit row, once, even
 * with two sweeps at the same time; a commit that still comes is charged. The clock is injected.
 */
import assert from 'node:assert/strict';
import { listAudit } from '../../../primary/audit/audit-log';
import { EXPIRY_ACTOR, expireAuthorisations, findStaleAuthorisations } from '../../../primary/printing/authorisation-expiry';
import type { Services } from '../../../primary/services';
import { describeOnEachDatabase } from '../../utils/databases';
import { accountFor, jobDescription as job, servicesFor } from '../../utils/fixtures';

const SECONDARY = 'print-1';
const HOUR = 3600_000;

describeOnEachDatabase('authorisation expiry', (t) => {
  let s: Services;
  beforeEach(() => {
    s = servicesFor(t.db);
  });

  const balanceOf = async (username: string): Promise<[number, number]> => {
    const user = await s.users.getByUsername(username);
    const a = await s.users.personalAccount(user.id);
    return [a.balance, a.reserved];
  };
  const statusOf = async (jobId: string): Promise<string> =>
    ((await t.db.knex('print_jobs').where({ job_uuid: jobId }).first('status')) as { status: string }).status;
  const sweep = (at: number, services = s): ReturnType<typeof expireAuthorisations> =>
    expireAuthorisations({ db: t.db, printing: services.printing, settings: services.settings, now: () => at });

  it('releases a hold older than the timeout (default 4 hours) with an audit row, and leaves younger ones alone', async () => {
    await accountFor(s, { username: 'ann', restricted: true, initialCredit: 100 });
    const old = job({ pages: 3 });
    const young = job({ pages: 2 });
    for (const j of [old, young]) assert.equal((await s.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: j })).kind, 'authorized');
    const authorisedAt = Date.now();
    await t.db
      .knex('print_jobs')
      .where({ job_uuid: old.jobId })
      .update({ authorised_at: authorisedAt - 3 * HOUR });
    assert.deepEqual(await balanceOf('ann'), [100, 50]);

    // Three hours on, nothing is older than four: nothing is stale, nothing expires.
    assert.deepEqual(await findStaleAuthorisations({ db: t.db, settings: s.settings, now: () => authorisedAt }), []);
    assert.deepEqual(await sweep(authorisedAt), { expired: 0, released: 0 });

    const later = authorisedAt + HOUR + 1000; // the old job is 4 h 1 s old, the young one 1 h 1 s
    const stale = await findStaleAuthorisations({ db: t.db, settings: s.settings, now: () => later });
    assert.deepEqual(
      stale.map((h) => [h.jobId, h.username, h.secondary, h.held]),
      [[old.jobId, 'ann', SECONDARY, 30]],
    );
    assert.deepEqual(await sweep(later), { expired: 1, released: 30 });
    assert.deepEqual(await balanceOf('ann'), [100, 20]);
    assert.deepEqual([await statusOf(old.jobId), await statusOf(young.jobId)], ['expired', 'authorised']);
    const reservation = await t.db
      .knex('reservations')
      .where({ idempotency_key: `print:${old.jobId}` })
      .first('state');
    assert.equal(reservation.state, 'released');
    const audit = await listAudit(t.db.knex, { targetType: 'print_job' });
    assert.deepEqual(
      audit.map((a) => [a.actor, a.action, a.targetId, a.details.released, a.details.secondary]),
      [[EXPIRY_ACTOR, 'print.authorisation.expired', old.jobId, 30, SECONDARY]],
    );
    assert.deepEqual(await findStaleAuthorisations({ db: t.db, settings: s.settings, now: () => later }), []);

    // Idempotent: a second run finds nothing to do and writes nothing.
    assert.deepEqual(await sweep(later), { expired: 0, released: 0 });
    assert.equal((await listAudit(t.db.knex, { targetType: 'print_job' })).length, 1);
    assert.deepEqual((await s.ledger.verify()).problems, []);
  });

  it('follows printing.authorisationTimeout', async () => {
    await accountFor(s, { username: 'ann', restricted: false });
    const j = job({ pages: 1 });
    await s.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: j });
    await assert.rejects(s.settings.set('printing.authorisationTimeout', 10), /printing\.authorisationTimeout/);
    await s.settings.set('printing.authorisationTimeout', 1800);
    assert.deepEqual(await sweep(Date.now() + 29 * 60_000), { expired: 0, released: 0 });
    assert.deepEqual(await sweep(Date.now() + 31 * 60_000), { expired: 1, released: 10 });
    assert.deepEqual(await balanceOf('ann'), [0, 0]);
  });

  it('expires a job once when two primaries sweep the same database at the same time', async () => {
    await accountFor(s, { username: 'ann', restricted: true, initialCredit: 1000 });
    const jobs = Array.from({ length: 20 }, () => job({ pages: 1 }));
    await s.printing.processBatch(jobs.map((j) => ({ kind: 'authorize', secondary: SECONDARY, job: j })));
    assert.deepEqual(await balanceOf('ann'), [1000, 200]);
    const other = servicesFor(t.db); // a second primary: its own services, the same database
    const later = Date.now() + 5 * HOUR;
    const runs = await Promise.all([sweep(later), sweep(later, other)]);
    assert.equal(runs[0].expired + runs[1].expired, 20);
    assert.equal(runs[0].released + runs[1].released, 200);
    assert.deepEqual(await balanceOf('ann'), [1000, 0]);
    assert.equal((await listAudit(t.db.knex, { targetType: 'print_job' })).length, 20);
    assert.deepEqual((await s.ledger.verify()).problems, []);
  });

  it('charges a commit that arrives after its job expired, without a credit check (the pages printed); a release then changes nothing', async () => {
    await accountFor(s, { username: 'ann', restricted: true, initialCredit: 100 });
    const late = job({ pages: 6 });
    const gone = job({ pages: 2 });
    for (const j of [late, gone]) await s.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: j });
    assert.deepEqual(await sweep(Date.now() + 5 * HOUR), { expired: 2, released: 80 });
    // Meanwhile ann spends most of her credit.
    const spent = job({ pages: 9 });
    await s.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: spent });
    await s.printing.submit({ kind: 'commit', secondary: SECONDARY, jobId: spent.jobId });
    assert.deepEqual(await balanceOf('ann'), [10, 0]);

    // The backend reports 5 pages of the 6: 50 is charged although only 10 is left.
    assert.deepEqual(await s.printing.submit({ kind: 'commit', secondary: SECONDARY, jobId: late.jobId, printedPages: 5 }), {
      kind: 'committed',
      jobId: late.jobId,
      cost: 50,
    });
    assert.deepEqual(await s.printing.submit({ kind: 'commit', secondary: SECONDARY, jobId: late.jobId, printedPages: 5 }), {
      kind: 'committed',
      jobId: late.jobId,
      cost: 50,
    });
    assert.deepEqual(await s.printing.submit({ kind: 'release', secondary: SECONDARY, jobId: gone.jobId, reason: 'backend failed' }), {
      kind: 'released',
      jobId: gone.jobId,
    });
    assert.deepEqual(await balanceOf('ann'), [-40, 0]);
    assert.deepEqual([await statusOf(late.jobId), await statusOf(gone.jobId)], ['printed', 'expired']);
    const rows = await t.db.knex('ledger').where({ type: 'print' }).orderBy('id').select('amount', 'idempotency_key', 'comment');
    assert.deepEqual(
      rows.map((r) => [Number(r.amount), r.idempotency_key, r.comment]),
      [
        [-90, `print:${spent.jobId}`, ''],
        [-50, `print:${late.jobId}`, 'printed after its authorisation expired'],
      ],
    );
    // CUPS retrying the expired job asks for a new attempt, charged on its own.
    const again = await s.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: { ...gone } });
    assert.equal(again.kind === 'authorized' && again.jobId, `${gone.jobId}#2`);
    assert.deepEqual((await s.ledger.verify()).problems, []);
  });

  it('gives the hold back when a job it authorised is recorded as printed free (the answer was lost; the failure mode printed it free)', async () => {
    await accountFor(s, { username: 'ann', restricted: true, initialCredit: 100 });
    const j = job({ pages: 4 });
    await s.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: j });
    assert.deepEqual(await balanceOf('ann'), [100, 40]);
    for (let i = 0; i < 2; i++)
      assert.deepEqual(await s.printing.submit({ kind: 'offline', secondary: SECONDARY, job: j, printedPages: 4, free: true }), {
        kind: 'recorded',
        jobId: j.jobId,
        cost: 0,
      });
    assert.deepEqual(await balanceOf('ann'), [100, 0]);
    assert.equal(await statusOf(j.jobId), 'printed');
    assert.equal((await t.db.knex('ledger').where({ type: 'print' })).length, 0);
    assert.deepEqual((await s.ledger.verify()).problems, []);
  });
});
