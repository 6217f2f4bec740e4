/**
 * Jobs billed to shared accounts through real CUPS (a private cupsd, the Quotient backend, a real
 * secondary and primary): `lp -o job-account-id=CODE` and `-o job-billing=CODE` charge the shared
 * account at its multiplier, the same job without the option charges the user's active account,
 * and a job naming an account the user may not use (no access, expired, archived, wrong PIN) is
 * refused with the reason `lpstat` shows, charging nothing (docs/accounts.md).
 */
import assert from 'node:assert/strict';
import { balanceOf } from '../../utils/secondary';
import { makeDocument, useCupsFixture } from '../../utils/cups';
import { describeEndToEnd } from '../../utils/databases';
import { accountFor } from '../../utils/fixtures';

const SECONDARY = 'print-1';
const ACTOR = 'test';

describeEndToEnd('shared accounts through real CUPS', (t) => {
  const fx = useCupsFixture(t, {
    queues: ['raw'],
    beforeSecondary: (primary) => primary.services.printers.resolve(SECONDARY, 'raw'),
  });

  const done = ['completed', 'aborted', 'canceled'];

  /** A shared account's print rows: [key, amount]. */
  async function printRowsOf(name: string): Promise<[string, number][]> {
    const account = await fx.primary.services.accounts.get(name);
    const rows = (await t.db.knex('ledger').where({ account_id: account.id, type: 'print' }).orderBy('id').select('idempotency_key', 'amount')) as {
      idempotency_key: string;
      amount: number | string;
    }[];
    return rows.map((r) => [r.idempotency_key, Number(r.amount)]);
  }

  async function fund(name: string, amount: number): Promise<void> {
    const account = await fx.primary.services.accounts.get(name);
    await fx.primary.services.balances.adjust({ accountId: account.id, amount, key: `fund:${name}`, actor: ACTOR, comment: 'budget' });
  }

  it('charges the account a job names (job-account-id or job-billing) at its multiplier, and the active account otherwise', async function () {
    this.timeout(60_000);
    const s = fx.primary.services;
    await accountFor(s, { username: 'ann', restricted: true, initialCredit: 1000, creditLimit: 0 });
    await s.accounts.create({ name: 'Physics', code: 'PHY', multiplierBp: 15000 }, ACTOR);
    await s.accounts.create({ name: 'Library', code: 'LIB' }, ACTOR);
    await s.accounts.grant('Physics', { user: 'ann' }, ACTOR);
    await s.accounts.grant('Library', { everyone: true }, ACTOR);
    await fund('Physics', 500);
    await fund('Library', 100);
    // ann chose nothing: her active account is the first she may charge by name, Library.
    assert.equal((await s.accounts.active('ann')).name, 'Library');

    const [three, two, one] = await Promise.all([3, 2, 1].map((pages) => makeDocument(fx.docs, 'pdf', pages)));
    const named = await fx.cups.lp(['-d', 'raw', '-U', 'ann', '-o', 'job-account-id=PHY', three!]);
    const plain = await fx.cups.lp(['-d', 'raw', '-U', 'ann', two!]);
    const billed = await fx.cups.lp(['-d', 'raw', '-U', 'ann', '-o', 'job-billing=phy', one!]);
    const jobs = await Promise.all([named, plain, billed].map((id) => fx.cups.waitForJob(id, done)));
    for (const [i, job] of jobs.entries()) assert.equal(job.state, 'completed', fx.cups.jobLog([named, plain, billed][i]!));
    await fx.secondary.whenOutboxEmpty();

    const [n, p, b] = jobs.map((j) => `print:${j.uuid}`);
    assert.deepEqual(await printRowsOf('Physics'), [
      [n, -45], // 3 pages x 10 x 1.5
      [b, -15], // 1 page x 10 x 1.5
    ]);
    assert.deepEqual(await printRowsOf('Library'), [[p, -20]]);
    assert.deepEqual(
      [(await s.accounts.get('Physics')).balance, (await s.accounts.get('Library')).balance, ...(await balanceOf(fx.primary, 'ann'))],
      [440, 80, 1000, 0],
    );
    const paidBy = (await t.db
      .knex('print_jobs as j')
      .join('accounts as a', 'a.id', 'j.account_id')
      .orderBy('j.id')
      .select('j.job_uuid', 'a.name', 'j.cost')) as { job_uuid: string; name: string; cost: number | string }[];
    assert.deepEqual(
      paidBy.map((r) => [r.job_uuid, r.name, Number(r.cost)]),
      [
        [jobs[0]!.uuid, 'Physics', 45],
        [jobs[1]!.uuid, 'Library', 20],
        [jobs[2]!.uuid, 'Physics', 15],
      ],
    );
    assert.equal(fx.sink.received.length, 3);
    assert.deepEqual((await s.ledger.verify()).problems, []);
  });

  it('refuses a job for an account without access, expired, archived or with a wrong PIN, charging nothing, with the reason in lpstat', async function () {
    this.timeout(60_000);
    const s = fx.primary.services;
    await accountFor(s, { username: 'ann', restricted: true, initialCredit: 1000, creditLimit: 0 });
    await accountFor(s, { username: 'bob' });
    await s.accounts.create({ name: 'Secret', code: 'SEC' }, ACTOR);
    await s.accounts.grant('Secret', { user: 'bob' }, ACTOR);
    await s.accounts.create({ name: 'Closed', code: 'CLOSED', expiresAt: Date.now() + 60_000 }, ACTOR);
    await s.accounts.grant('Closed', { everyone: true }, ACTOR);
    // Its expiry has come (the service refuses a past expiry, so the row is moved as time would move it).
    await t.db
      .knex('accounts')
      .where({ code: 'CLOSED' })
      .update({ expires_at: Date.now() - 1000 });
    await s.accounts.create({ name: 'Old', code: 'OLD' }, ACTOR);
    await s.accounts.grant('Old', { user: 'ann' }, ACTOR);
    await s.accounts.archive('Old', ACTOR);
    await s.accounts.create({ name: 'Grant', code: 'GRANT', pin: '0042' }, ACTOR);
    await s.accounts.grant('Grant', { user: 'ann' }, ACTOR);
    for (const name of ['Secret', 'Closed', 'Old', 'Grant']) await fund(name, 100);

    const pdf = await makeDocument(fx.docs, 'pdf', 1);
    const cases: [string, string][] = [
      ['SEC', 'you may not charge account SEC'],
      ['CLOSED', 'account Closed has expired'],
      ['OLD', 'account Old is archived'],
      ['GRANT-0041', 'wrong PIN for account GRANT'],
      ['GRANT-42', 'wrong PIN for account GRANT'],
    ];
    const ids = await Promise.all(cases.map(([option]) => fx.cups.lp(['-d', 'raw', '-U', 'ann', '-o', `job-account-id=${option}`, pdf])));
    const good = await fx.cups.lp(['-d', 'raw', '-U', 'ann', '-o', 'job-account-id=GRANT-0042', pdf]);
    const refused = await Promise.all(ids.map((id) => fx.cups.waitForJob(id, done)));
    assert.deepEqual(
      refused.map((j) => [j.state, j.message]),
      cases.map(([, reason]) => ['canceled', `Job refused by Quotient: ${reason}`]),
    );
    const listing = await fx.cups.lpstat(['-W', 'completed', '-l', '-o', 'raw']);
    for (const [, reason] of cases) assert.ok(listing.includes(`Status: Job refused by Quotient: ${reason}`), listing);
    assert.equal((await fx.cups.waitForJob(good, done)).state, 'completed', fx.cups.jobLog(good));
    await fx.secondary.whenOutboxEmpty();

    // Only the job with the right PIN (leading zero and all) was charged, to Grant.
    assert.deepEqual(
      (
        await t.db
          .knex('ledger')
          .where({ 'ledger.type': 'print' })
          .join('accounts', 'accounts.id', 'ledger.account_id')
          .select('accounts.name', 'ledger.amount')
      ).map((r: { name: string; amount: number | string }) => [r.name, Number(r.amount)]),
      [['Grant', -10]],
    );
    assert.deepEqual(await Promise.all(['Secret', 'Closed', 'Old', 'Grant'].map(async (name) => (await s.accounts.get(name)).balance)), [100, 100, 100, 90]);
    assert.deepEqual(await balanceOf(fx.primary, 'ann'), [1000, 0]);
    assert.equal(fx.sink.received.length, 1);
    assert.deepEqual((await s.ledger.verify()).problems, []);
  });
});
