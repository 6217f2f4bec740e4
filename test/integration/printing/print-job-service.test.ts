import assert from 'node:assert/strict';
import { describeOnEachDatabase } from '../../utils/databases';
import { accountFor, servicesFor, jobDescription } from '../../utils/fixtures';
import type { Services } from '../../../primary/services';
import type { JobOutcome } from '../../../primary/printing/job-events';

const job = jobDescription;

const SECONDARY = 'print-1';

describeOnEachDatabase('PrintJobService', (t) => {
  let s: Services;
  beforeEach(() => {
    s = servicesFor(t.db);
  });

  const balanceOf = async (username: string): Promise<[number, number]> => {
    const user = await s.users.getByUsername(username);
    const a = await s.users.personalAccount(user.id);
    return [a.balance, a.reserved];
  };

  it('reserves at authorisation and charges exactly at commit, on the default rate card (10 per grey page)', async () => {
    await accountFor(s, { username: 'ann', restricted: true, initialCredit: 100 });
    const j = job({ pages: 3, copies: 2 });
    const auth = await s.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: j });
    assert.deepEqual(auth, { kind: 'authorized', jobId: j.jobId, allowed: true, reason: '', cost: 60, charged: true });
    assert.deepEqual(await balanceOf('ann'), [100, 60]);
    const done = await s.printing.submit({ kind: 'commit', secondary: SECONDARY, jobId: j.jobId });
    assert.deepEqual(done, { kind: 'committed', jobId: j.jobId, cost: 60 });
    assert.deepEqual(await balanceOf('ann'), [40, 0]);
    // A replayed commit changes nothing.
    assert.deepEqual(await s.printing.submit({ kind: 'commit', secondary: SECONDARY, jobId: j.jobId }), done);
    assert.deepEqual(await balanceOf('ann'), [40, 0]);
    const rows = await t.db.knex('ledger').where({ type: 'print' });
    assert.deepEqual(
      rows.map((r) => [Number(r.amount), Number(r.balance_after), r.idempotency_key]),
      [[-60, 40, `print:${j.jobId}`]],
    );
    const printer = await t.db.knex('printers').first();
    assert.deepEqual([printer.server_name, printer.queue_name], [SECONDARY, 'library-laser']);
    assert.deepEqual((await s.ledger.verify()).problems, []);
  });

  it('finds the reservation by its key when the job row does not name it, for a commit and a release', async () => {
    await accountFor(s, { username: 'ann', restricted: true, initialCredit: 100 });
    const printed = job({ pages: 3 });
    const cancelled = job({ pages: 2 });
    for (const j of [printed, cancelled]) await s.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: j });
    assert.deepEqual(await balanceOf('ann'), [100, 50]);
    await t.db.knex('print_jobs').update({ reservation_id: null });
    assert.deepEqual(await s.printing.submit({ kind: 'commit', secondary: SECONDARY, jobId: printed.jobId }), {
      kind: 'committed',
      jobId: printed.jobId,
      cost: 30,
    });
    assert.deepEqual(await s.printing.submit({ kind: 'release', secondary: SECONDARY, jobId: cancelled.jobId, reason: 'cancelled at the printer' }), {
      kind: 'released',
      jobId: cancelled.jobId,
    });
    assert.deepEqual(await balanceOf('ann'), [70, 0]);
    const reservations = await t.db.knex('reservations').orderBy('id').select('idempotency_key', 'state', 'amount');
    assert.deepEqual(
      reservations.map((r) => [r.idempotency_key, r.state, Number(r.amount)]),
      [
        [`print:${printed.jobId}`, 'committed', 30],
        [`print:${cancelled.jobId}`, 'released', 20],
      ],
    );
    const ledger = await t.db.knex('ledger').where({ type: 'print' }).select('amount', 'balance_after', 'idempotency_key');
    assert.deepEqual(
      ledger.map((r) => [Number(r.amount), Number(r.balance_after), r.idempotency_key]),
      [[-30, 70, `print:${printed.jobId}`]],
    );
    assert.deepEqual((await s.ledger.verify()).problems, []);
  });

  it('keeps one batch exact when some of its commits and releases find their reservation by key and the others by the job row', async () => {
    await accountFor(s, { username: 'ann', restricted: true, initialCredit: 100 });
    const jobs = [1, 2, 3, 4].map((pages) => job({ pages }));
    for (const j of jobs) await s.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: j });
    assert.deepEqual(await balanceOf('ann'), [100, 100]);
    await t.db
      .knex('print_jobs')
      .whereIn('job_uuid', [jobs[1]?.jobId ?? '', jobs[3]?.jobId ?? ''])
      .update({ reservation_id: null });
    const [one, two, three, four] = jobs.map((j) => j.jobId);
    const outcomes = await s.printing.processBatch([
      { kind: 'commit', secondary: SECONDARY, jobId: one ?? '' },
      { kind: 'release', secondary: SECONDARY, jobId: four ?? '', reason: 'cancelled at the printer' },
      { kind: 'commit', secondary: SECONDARY, jobId: two ?? '' },
      { kind: 'commit', secondary: SECONDARY, jobId: three ?? '' },
    ]);
    assert.deepEqual(
      outcomes.map((o) => (o.kind === 'committed' ? o.cost : o.kind)),
      [10, 'released', 20, 30],
    );
    assert.deepEqual(await balanceOf('ann'), [40, 0]);
    const ledger = await t.db.knex('ledger').where({ type: 'print' }).orderBy('id').select('amount', 'balance_after');
    assert.deepEqual(
      ledger.map((r) => [Number(r.amount), Number(r.balance_after)]),
      [
        [-10, 90],
        [-20, 70],
        [-30, 40],
      ],
    );
    assert.deepEqual((await s.ledger.verify()).problems, []);
  });

  it('denies a restricted user who cannot afford the job, with the reason, and holds nothing', async () => {
    await accountFor(s, { username: 'bob', restricted: true, initialCredit: 25 });
    const j = job({ username: 'bob', pages: 3 });
    const auth = await s.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: j });
    assert.equal(auth.kind === 'authorized' && auth.allowed, false);
    assert.equal(auth.kind === 'authorized' && auth.reason, 'not enough credit: this job costs $0.30 and you have $0.25 available');
    assert.deepEqual(await balanceOf('bob'), [25, 0]);
    await assert.rejects(s.printing.submit({ kind: 'commit', secondary: SECONDARY, jobId: j.jobId }), { code: 'INVALID_STATE' });
    assert.deepEqual(await s.printing.submit({ kind: 'release', secondary: SECONDARY, jobId: j.jobId, reason: 'cancelled' }), {
      kind: 'released',
      jobId: j.jobId,
    });
  });

  describe('a job printed again under its CUPS UUID (Restart-Job)', () => {
    it('answers a retry before the commit with the first answer, and charges it once', async () => {
      await accountFor(s, { username: 'ann', restricted: true, initialCredit: 100 });
      const j = job({ pages: 2 });
      const first = await s.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: j });
      const retried = await s.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: j });
      assert.deepEqual(retried, first);
      assert.deepEqual(first, { kind: 'authorized', jobId: j.jobId, allowed: true, reason: '', cost: 20, charged: true });
      assert.deepEqual(await balanceOf('ann'), [100, 20]);
      await s.printing.submit({ kind: 'commit', secondary: SECONDARY, jobId: j.jobId });
      assert.deepEqual(await balanceOf('ann'), [80, 0]);
      assert.equal(
        await t.db
          .knex('print_jobs')
          .count({ n: '*' })
          .first()
          .then((r) => Number(r?.n)),
        1,
      );
    });

    it('charges a job authorised again after it printed as a second print, under <uuid>#2', async () => {
      await accountFor(s, { username: 'ann', restricted: true, initialCredit: 100 });
      const j = job({ pages: 2 });
      await s.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: j });
      await s.printing.submit({ kind: 'commit', secondary: SECONDARY, jobId: j.jobId });
      const again = await s.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: j });
      assert.deepEqual(again, { kind: 'authorized', jobId: `${j.jobId}#2`, allowed: true, reason: '', cost: 20, charged: true });
      // A retry of the second print, before its commit: the second answer again.
      assert.deepEqual(await s.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: j }), again);
      assert.deepEqual(await balanceOf('ann'), [80, 20]);
      assert.deepEqual(await s.printing.submit({ kind: 'commit', secondary: SECONDARY, jobId: `${j.jobId}#2`, printedPages: 3 }), {
        kind: 'committed',
        jobId: `${j.jobId}#2`,
        cost: 30,
      });
      const third = await s.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: j });
      assert.equal(third.jobId, `${j.jobId}#3`);
      await s.printing.submit({ kind: 'commit', secondary: SECONDARY, jobId: third.jobId });
      assert.deepEqual(await balanceOf('ann'), [30, 0]); // 20 + 30 + 20
      const rows = await t.db.knex('ledger').where({ type: 'print' }).orderBy('id');
      assert.deepEqual(
        rows.map((r) => [Number(r.amount), Number(r.balance_after), r.idempotency_key]),
        [
          [-20, 80, `print:${j.jobId}`],
          [-30, 50, `print:${j.jobId}#2`],
          [-20, 30, `print:${j.jobId}#3`],
        ],
      );
      assert.deepEqual((await s.ledger.verify()).problems, []);
    });

    it('changes nothing when the commits of both prints are replayed, one by one or in one batch', async () => {
      await accountFor(s, { username: 'ann', restricted: false });
      const j = job({ pages: 1 });
      await s.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: j });
      const firstCommit = { kind: 'commit' as const, secondary: SECONDARY, jobId: j.jobId };
      const secondCommit = { kind: 'commit' as const, secondary: SECONDARY, jobId: `${j.jobId}#2` };
      const commits = [firstCommit, secondCommit];
      await s.printing.submit(firstCommit);
      await s.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: j });
      await s.printing.submit(secondCommit);
      assert.deepEqual(await balanceOf('ann'), [-20, 0]);
      for (const c of commits) assert.deepEqual(await s.printing.submit(c), { kind: 'committed', jobId: c.jobId, cost: 10 });
      assert.deepEqual(
        await s.printing.processBatch([...commits, ...commits]),
        commits.concat(commits).map((c) => ({ kind: 'committed', jobId: c.jobId, cost: 10 })),
      );
      assert.deepEqual(await balanceOf('ann'), [-20, 0]);
      assert.equal(
        await t.db
          .knex('ledger')
          .where({ type: 'print' })
          .count({ n: '*' })
          .first()
          .then((r) => Number(r?.n)),
        2,
      );
    });

    it('charges a job that failed (released) and was restarted when it prints', async () => {
      await accountFor(s, { username: 'dee', restricted: true, initialCredit: 50 });
      const j = job({ username: 'dee', pages: 3 });
      await s.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: j });
      await s.printing.submit({ kind: 'release', secondary: SECONDARY, jobId: j.jobId, reason: 'backend failed' });
      const again = await s.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: j });
      assert.deepEqual(again, { kind: 'authorized', jobId: `${j.jobId}#2`, allowed: true, reason: '', cost: 30, charged: true });
      await s.printing.submit({ kind: 'commit', secondary: SECONDARY, jobId: again.jobId });
      assert.deepEqual(await balanceOf('dee'), [20, 0]);
    });

    it('records a reprint made while the primary was away under its own id, once however often it is replayed', async () => {
      await accountFor(s, { username: 'eve', restricted: false });
      const j = job({ username: 'eve', pages: 4 });
      await s.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: j });
      await s.printing.submit({ kind: 'commit', secondary: SECONDARY, jobId: j.jobId });
      const reprint = { ...j, jobId: `${j.jobId}#offline-1795000000000` };
      for (let i = 0; i < 2; i++)
        assert.deepEqual(await s.printing.submit({ kind: 'offline', secondary: SECONDARY, job: reprint, free: false }), {
          kind: 'recorded',
          jobId: reprint.jobId,
          cost: 40,
        });
      assert.deepEqual(await balanceOf('eve'), [-80, 0]);
    });

    it('refuses to authorise a job id that names an attempt itself', async () => {
      await accountFor(s, { username: 'ann', restricted: false });
      await assert.rejects(s.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: job({ jobId: 'urn:uuid:1#2' }) }), {
        code: 'VALIDATION',
        message: 'job.jobId must not contain "#" (it numbers the attempts of a job)',
      });
    });
  });

  it('charges the pages the backend reports instead of the analysed count', async () => {
    await accountFor(s, { username: 'cat', restricted: false });
    const j = job({ username: 'cat', pages: 10, colourPages: 2, copies: 2 });
    const auth = await s.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: j });
    assert.equal(auth.kind === 'authorized' && auth.cost, 2 * (8 * 10 + 2 * 50));
    // Only 8 impressions printed (4 per copy): 4 pages of which 2 colour → 2×(2×10+2×50) = 240.
    const done = await s.printing.submit({ kind: 'commit', secondary: SECONDARY, jobId: j.jobId, printedPages: 8 });
    assert.deepEqual(done, { kind: 'committed', jobId: j.jobId, cost: 240 });
    assert.deepEqual(await balanceOf('cat'), [-240, 0]);
  });

  it('gives the reservation back on release and refuses to commit afterwards', async () => {
    await accountFor(s, { username: 'dee', restricted: true, initialCredit: 50 });
    const j = job({ username: 'dee', pages: 5 });
    await s.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: j });
    assert.deepEqual(await balanceOf('dee'), [50, 50]);
    await s.printing.submit({ kind: 'release', secondary: SECONDARY, jobId: j.jobId, reason: 'backend failed' });
    assert.deepEqual(await balanceOf('dee'), [50, 0]);
    await assert.rejects(s.printing.submit({ kind: 'commit', secondary: SECONDARY, jobId: j.jobId }), { code: 'INVALID_STATE' });
    const row = await t.db.knex('print_jobs').where({ job_uuid: j.jobId }).first();
    assert.deepEqual([row.status, row.reason], ['cancelled', 'backend failed']);
  });

  it('records a job printed offline: charged without a credit check, or free', async () => {
    await accountFor(s, { username: 'eve', restricted: true, initialCredit: 10 });
    const charged = job({ username: 'eve', pages: 4 });
    const free = job({ username: 'eve', pages: 4 });
    assert.deepEqual(await s.printing.submit({ kind: 'offline', secondary: SECONDARY, job: charged, free: false }), {
      kind: 'recorded',
      jobId: charged.jobId,
      cost: 40,
    });
    assert.deepEqual(await s.printing.submit({ kind: 'offline', secondary: SECONDARY, job: charged, free: false }), {
      kind: 'recorded',
      jobId: charged.jobId,
      cost: 40,
    });
    assert.deepEqual(await s.printing.submit({ kind: 'offline', secondary: SECONDARY, job: free, free: true }), {
      kind: 'recorded',
      jobId: free.jobId,
      cost: 0,
    });
    assert.deepEqual(await balanceOf('eve'), [-30, 0]);
    assert.equal(
      await t.db
        .knex('ledger')
        .where({ type: 'print' })
        .count({ n: '*' })
        .first()
        .then((r) => Number(r?.n)),
      1,
    );
  });

  it('creates unknown users on demand with the new-user rules, or denies them when configured to', async () => {
    await s.settings.set('users.newUserInitialCredit', 100);
    const j = job({ username: 'NewStudent', pages: 2 });
    const auth = await s.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: j });
    assert.equal(auth.kind === 'authorized' && auth.allowed, true);
    assert.deepEqual(await balanceOf('newstudent'), [100, 20]);
    await s.settings.set('printing.unknownUsers', 'deny');
    const stranger = job({ username: 'stranger' });
    const denied = await s.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: stranger });
    assert.equal(denied.kind === 'authorized' && denied.reason, 'unknown user stranger');
    assert.equal(await s.users.findByUsername('stranger'), undefined);
    // A job that already printed (offline) is recorded even so: its user is created and charged.
    const printed = job({ username: 'walk-in', pages: 1 });
    assert.deepEqual(await s.printing.submit({ kind: 'offline', secondary: SECONDARY, job: printed, free: false }), {
      kind: 'recorded',
      jobId: printed.jobId,
      cost: 10,
    });
    assert.deepEqual(await balanceOf('walk-in'), [90, 0]);
  });

  it("puts a user created on demand in users.onDemandGroups, with the group's initial credit, restriction and overdraft", async () => {
    await s.groups.create({ name: 'walk-ins', initialCredit: 150, initialRestricted: true, initialCreditLimit: 40 });
    await s.settings.set('users.onDemandGroups', 'walk-ins');
    // 19 pages at 10 cost 190: the 150 credit plus the 40 overdraft, exactly.
    const first = job({ username: 'zed', pages: 19 });
    const auth = await s.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: first });
    assert.deepEqual(auth, { kind: 'authorized', jobId: first.jobId, allowed: true, reason: '', cost: 190, charged: true });
    const zed = await s.users.detail((await s.users.getByUsername('zed')).id);
    assert.deepEqual(
      [zed.groups, zed.account.balance, zed.account.reserved, zed.account.restricted, zed.account.creditLimit],
      [['walk-ins'], 150, 190, true, 40],
    );
    const rows = (await t.db.knex('ledger').where({ account_id: zed.account.id }).orderBy('id')) as {
      amount: number | string;
      balance_after: number | string;
      type: string;
      actor: string;
      idempotency_key: string;
    }[];
    assert.deepEqual(
      rows.map((r) => [Number(r.amount), Number(r.balance_after), r.type, r.actor, r.idempotency_key]),
      [[150, 150, 'initial', 'system:print-on-demand', `initial:user:${zed.id}`]],
    );
    // Restricted: one more page would go past the overdraft.
    const second = await s.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: job({ username: 'zed', pages: 1 }) });
    assert.equal(second.kind === 'authorized' && second.allowed, false);
  });

  it('denies on a disabled printer and records without charging on a passthrough printer', async () => {
    await accountFor(s, { username: 'fay', restricted: true, initialCredit: 0 });
    await s.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: job({ username: 'fay', pages: 0, queue: 'q-off' }) });
    await s.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: job({ username: 'fay', pages: 0, queue: 'q-free' }) });
    await t.db.knex('printers').where({ queue_name: 'q-off' }).update({ enabled: false });
    await t.db.knex('printers').where({ queue_name: 'q-free' }).update({ charging_enabled: false });
    const fresh = servicesFor(t.db); // a new registry: no cached printers
    const off = await fresh.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: job({ username: 'fay', queue: 'q-off' }) });
    assert.equal(off.kind === 'authorized' && off.reason, 'this printer is disabled');
    const pass = job({ username: 'fay', queue: 'q-free', pages: 7 });
    assert.deepEqual(await fresh.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: pass }), {
      kind: 'authorized',
      jobId: pass.jobId,
      allowed: true,
      reason: '',
      cost: 70,
      charged: false,
    });
    assert.deepEqual(await fresh.printing.submit({ kind: 'commit', secondary: SECONDARY, jobId: pass.jobId }), {
      kind: 'committed',
      jobId: pass.jobId,
      cost: 70,
    });
    assert.deepEqual(await balanceOf('fay'), [0, 0]);
  });

  it('answers each event of a batch on its own: a bad event fails alone', async () => {
    await accountFor(s, { username: 'gus', restricted: false });
    const a = job({ username: 'gus', pages: 1 });
    const b = job({ username: 'gus', pages: 2 });
    const outcomes = await s.printing.processBatch([
      { kind: 'authorize', secondary: SECONDARY, job: a },
      { kind: 'commit', secondary: SECONDARY, jobId: 'urn:uuid:never-seen' },
      { kind: 'authorize', secondary: SECONDARY, job: b },
      { kind: 'commit', secondary: SECONDARY, jobId: a.jobId },
      { kind: 'release', secondary: SECONDARY, jobId: b.jobId, reason: 'x' },
      { kind: 'commit', secondary: SECONDARY, jobId: b.jobId },
      { kind: 'release', secondary: SECONDARY, jobId: 'urn:uuid:never-seen', reason: 'printed offline, then failed' },
    ]);
    const brief = outcomes.map((o: JobOutcome) => (o.kind === 'error' ? `error:${o.error.code}` : o.kind));
    assert.deepEqual(brief, ['authorized', 'error:NOT_FOUND', 'authorized', 'committed', 'released', 'error:INVALID_STATE', 'released']);
    assert.deepEqual(await balanceOf('gus'), [-10, 0]);
    assert.deepEqual((await s.ledger.verify()).problems, []);
  });

  it('checks and charges each job of one user in a batch against the running balance', async () => {
    await accountFor(s, { username: 'ida', restricted: true, initialCredit: 50, creditLimit: 0 });
    const jobs = [1, 2, 3].map((n) => job({ username: 'ida', jobId: `urn:uuid:ida-${n}`, pages: 2 }));
    const authorized = await s.printing.processBatch(jobs.map((j) => ({ kind: 'authorize' as const, secondary: SECONDARY, job: j })));
    assert.deepEqual(
      authorized.map((o) => (o.kind === 'authorized' ? o.allowed : o.kind)),
      [true, true, false],
      'the third job does not fit in what the first two left',
    );
    assert.deepEqual(await balanceOf('ida'), [50, 40]);
    const committed = await s.printing.processBatch([
      { kind: 'commit', secondary: SECONDARY, jobId: jobs[0]?.jobId ?? '', printedPages: 1 },
      { kind: 'commit', secondary: SECONDARY, jobId: jobs[1]?.jobId ?? '' },
      { kind: 'release', secondary: SECONDARY, jobId: jobs[0]?.jobId ?? '', reason: 'too late' },
    ]);
    assert.deepEqual(
      committed.map((o) => (o.kind === 'error' ? `error:${o.error.code}` : o.kind)),
      ['committed', 'committed', 'error:INVALID_STATE'],
    );
    assert.deepEqual(await balanceOf('ida'), [20, 0]);
    const rows = await t.db.knex('ledger').where({ type: 'print' }).orderBy('id');
    assert.deepEqual(
      rows.map((r) => [r.idempotency_key, Number(r.amount), Number(r.balance_after)]),
      [
        [`print:${jobs[0]?.jobId ?? ''}`, -10, 40],
        [`print:${jobs[1]?.jobId ?? ''}`, -20, 20],
      ],
    );
    const held = await t.db.knex('reservations').select('idempotency_key', 'state').orderBy('id');
    assert.deepEqual(
      held.map((r) => [r.idempotency_key, r.state]),
      [
        [`print:${jobs[0]?.jobId ?? ''}`, 'committed'],
        [`print:${jobs[1]?.jobId ?? ''}`, 'committed'],
      ],
    );
    assert.deepEqual((await s.ledger.verify()).problems, []);
  });

  it('lets exactly as many of 400 concurrent one-job calls through as the credit allows', async function () {
    this.timeout(120000);
    await accountFor(s, { username: 'hal', restricted: true, initialCredit: 1000, creditLimit: 0 });
    const jobs = Array.from({ length: 400 }, (_, i) => job({ username: 'hal', jobId: `urn:uuid:race-${i}`, pages: 3 }));
    const outcomes = await Promise.all(jobs.map((j) => s.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: j })));
    const allowed = outcomes.filter((o) => o.kind === 'authorized' && o.allowed);
    assert.equal(allowed.length, 33); // floor(1000 / 30)
    assert.deepEqual(await balanceOf('hal'), [1000, 990]);
    await Promise.all(allowed.map((o) => s.printing.submit({ kind: 'commit', secondary: SECONDARY, jobId: o.jobId })));
    assert.deepEqual(await balanceOf('hal'), [10, 0]);
    assert.deepEqual((await s.ledger.verify()).problems, []);
  });
});

describe('parseJobDescription()', () => {
  it('names the bad field', () => {
    assert.throws(() => job({ copies: 0 }), /job\.copies must be at least 1/);
    assert.throws(() => job({ colourPages: 9, pages: 3 }), /colourPages must not exceed/);
    assert.throws(() => job({ jobId: '' }), /job\.jobId is required/);
    assert.throws(() => job({ username: 'a\u0000b' }), /job\.username contains control characters/);
    assert.throws(() => job({ pages: 1.5 }), /job\.pages/);
  });

  it('keeps hostile document names as text, without control characters', () => {
    assert.equal(job({ documentName: '<script>alert(1)</script>\u0007' }).documentName, '<script>alert(1)</script> ');
  });
});
