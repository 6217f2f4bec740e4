/**
 * processBatch's batching changes nothing but speed: random sequences of print events (new jobs,
 * repeated authorisations, commits with and without a printed-page count, releases, offline
 * records, expiries, duplicates, unknown jobs and jobs of another secondary, several users and
 * printers) run through processBatch in random batches on one fresh database and one event at a
 * time on another give the same outcomes, ledger, reservations, jobs and balances. A batch with a
 * failing event takes the savepoint path, one that reads an account twice the batch's account
 * cache (primary/ledger/batch-accounts.ts). Some jobs name a shared account (`job-account-id`):
 * one that may be charged, with and without its PIN, a wrong PIN, an archived one, one the user
 * has no access to, an unknown code. A job without the option charges the active account: ann's
 * personal one (chosen), bob's and cat's DEPT (the first they may charge, by default), dan's GRANT
 * (chosen), eve's personal one (she has access to nothing usable). The seeds are random; QUOTIENT_DIFF_SEED=N replays one.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { openDatabase, type Database } from '../../../primary/db/connection';
import { migrateLatest } from '../../../primary/db/migrate';
import { dropAll, truncateAll } from '../../../primary/db/schema';
import type { JobEvent, JobOutcome } from '../../../primary/printing/job-events';
import { createServices } from '../../../primary/services';
import { describeOnEachDatabase, type TestDatabase } from '../../utils/databases';
import { accountFor, jobDescription } from '../../utils/fixtures';
import { rng } from '../../utils/seeded-random';

const SECONDARIES = ['print-1', 'print-2'];
const QUEUES = ['library-laser', 'lab-colour'];
/** eve has no account: created on demand by the first job that names her. */
const USERNAMES = ['ann', 'bob', 'cat', 'dan', 'eve'];
/**
 * What a job's account option holds, '' most often (the active account): DEPT (ann, bob and cat
 * may charge it), GRANT with its PIN 0042 (cat and dan; without the PIN, or with 0041, denied),
 * OLD (archived; everyone), and NOPE (no such code).
 */
const ACCOUNT_OPTIONS = ['', '', '', '', 'DEPT', 'DEPT', 'GRANT-0042', 'GRANT-0042', 'GRANT', 'GRANT-0041', 'OLD', 'NOPE'];
/** Users and account options that every sequence starts with: refused for each reason, and charged. */
const SURE_CASES: readonly [string, string][] = [
  ['ann', 'GRANT-0042'], // no access
  ['cat', 'GRANT-0041'], // wrong PIN
  ['dan', 'GRANT'], // no PIN
  ['bob', 'OLD'], // archived
  ['eve', 'NOPE'], // no such code
  ['cat', 'GRANT-0042'],
  ['bob', 'DEPT'],
  ['dan', ''], // his active account, GRANT
];
const EVENTS_PER_SEED = 160;
const MAX_BATCH = 25;

const SEEDS = process.env.QUOTIENT_DIFF_SEED ? [Number(process.env.QUOTIENT_DIFF_SEED)] : [1, 2].map(() => Math.floor(Math.random() * 2 ** 31));

/** A random sequence of events; it depends on the seed alone, never on what the primary answers. */
function randomEvents(seed: number, count: number): JobEvent[] {
  const rand = rng(seed);
  const int = (n: number): number => Math.floor(rand() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  const jobs: { secondary: string; job: ReturnType<typeof jobDescription> }[] = [];
  const newJob = (
    who: { username: string; accountCode: string } = { username: pick(USERNAMES), accountCode: pick(ACCOUNT_OPTIONS) },
  ): (typeof jobs)[number] => {
    const pages = 1 + int(6);
    const job = jobDescription({
      jobId: `urn:uuid:diff-${seed}-${jobs.length + 1}`,
      queue: pick(QUEUES),
      pages,
      colourPages: int(pages + 1),
      copies: 1 + int(2),
      ...who,
    });
    const made = { secondary: pick(SECONDARIES), job };
    jobs.push(made);
    return made;
  };
  const printedPages = (job: ReturnType<typeof jobDescription>): number | undefined => (rand() < 0.5 ? undefined : int(job.pages * job.copies + 3));
  // Each way a job's account option is used or refused, once at the start, whatever the seed.
  const events: JobEvent[] = SURE_CASES.map(([username, accountCode]) => {
    const { secondary, job } = newJob({ username, accountCode });
    return { kind: 'authorize', secondary, job };
  });
  while (events.length < count) {
    const r = rand();
    const old = jobs.length > 0 ? pick(jobs) : undefined;
    if (r < 0.3 || !old) {
      const { secondary, job } = newJob();
      events.push({ kind: 'authorize', secondary, job });
    } else if (r < 0.38) events.push({ kind: 'authorize', secondary: old.secondary, job: old.job });
    else if (r < 0.58) events.push({ kind: 'commit', secondary: old.secondary, jobId: old.job.jobId, printedPages: printedPages(old.job) });
    else if (r < 0.68) events.push({ kind: 'release', secondary: old.secondary, jobId: old.job.jobId, reason: 'cancelled' });
    else if (r < 0.76) {
      const { secondary, job } = newJob();
      events.push({ kind: 'offline', secondary, job, printedPages: printedPages(job), free: rand() < 0.2 });
    } else if (r < 0.8) events.push({ kind: 'offline', secondary: old.secondary, job: old.job, printedPages: printedPages(old.job), free: rand() < 0.3 });
    else if (r < 0.84) events.push({ kind: 'commit', secondary: old.secondary, jobId: `urn:uuid:diff-${seed}-never-authorised-${int(1000)}` });
    else if (r < 0.88) events.push({ kind: 'commit', secondary: SECONDARIES.find((s) => s !== old.secondary) ?? '', jobId: old.job.jobId });
    else if (r < 0.92) events.push({ kind: 'expire', secondary: '', jobId: old.job.jobId, authorisedBefore: Date.now() + 86_400_000, actor: 'system:test' });
    else events.push(events.at(-1) ?? { kind: 'authorize', secondary: old.secondary, job: old.job }); // a retry of the same event
  }
  return events;
}

/** An outcome without what may differ: an error's message (its code is compared). */
function comparable(outcome: JobOutcome): unknown {
  return outcome.kind === 'error' ? { kind: 'error', jobId: outcome.jobId, code: outcome.error.code } : outcome;
}

/** Everything the events may change, in an order both databases share (ids and times left out). */
async function books(db: Database): Promise<unknown> {
  const k = db.knex;
  const ledger = (await k('ledger as l')
    .join('accounts as a', 'a.id', 'l.account_id')
    .orderBy('l.id')
    .select('a.name', 'l.amount', 'l.balance_after', 'l.type', 'l.idempotency_key', 'l.reference', 'l.actor', 'l.comment')) as Record<string, unknown>[];
  const accounts = (await k('accounts').orderBy('name').select('name', 'balance', 'reserved')) as Record<string, unknown>[];
  const reservations = (await k('reservations as r')
    .join('accounts as a', 'a.id', 'r.account_id')
    .orderBy('r.id')
    .select('a.name', 'r.idempotency_key', 'r.state', 'r.amount', 'r.type')) as Record<string, unknown>[];
  const jobs = (await k('print_jobs as j')
    .leftJoin('accounts as a', 'a.id', 'j.account_id')
    .orderBy('j.job_uuid')
    .select('j.job_uuid', 'j.username', 'j.secondary', 'j.status', 'j.cost', 'j.charged', 'j.printed_pages', 'j.reason', 'a.name as paid_by')) as Record<
    string,
    unknown
  >[];
  const numbers = (row: Record<string, unknown>, ...columns: string[]): Record<string, unknown> => ({
    ...row,
    ...Object.fromEntries(columns.map((c) => [c, row[c] === null ? null : Number(row[c])])),
  });
  // Keys such as initial:user:<id> name a user by id, and ids differ between the suite's database
  // (MariaDB keeps counting after the tables are emptied) and the twin: compare them by username.
  const usernames = new Map(((await k('users').select('id', 'username')) as { id: number; username: string }[]).map((u) => [String(u.id), u.username]));
  const byUsername = (row: Record<string, unknown>): Record<string, unknown> => ({
    ...row,
    idempotency_key:
      typeof row.idempotency_key === 'string'
        ? row.idempotency_key.replace(/user:(\d+)/g, (_, id: string) => `user:${usernames.get(id) ?? `?${id}`}`)
        : row.idempotency_key,
  });
  return {
    ledger: ledger.map((r) => byUsername(numbers(r, 'amount', 'balance_after'))),
    accounts: accounts.map((r) => numbers(r, 'balance', 'reserved')),
    reservations: reservations.map((r) => numbers(r, 'amount')),
    jobs: jobs.map((r) => numbers(r, 'cost', 'charged', 'printed_pages')),
  };
}

/** A second fresh database beside the suite's: a SQLite file in its directory, or a MySQL database named after its own. */
async function openTwin(t: TestDatabase): Promise<{ db: Database; drop(): Promise<void> }> {
  if (t.dialect === 'sqlite') {
    const db = openDatabase(`sqlite:${path.join(t.dataDir, 'twin.db')}`, t.dataDir);
    await migrateLatest(db);
    return { db, drop: () => db.close() };
  }
  const url = new URL(t.url);
  const name = `${url.pathname.slice(1)}_twin`;
  await t.db.knex.raw('CREATE DATABASE IF NOT EXISTS ?? CHARACTER SET utf8mb4', [name]);
  url.pathname = `/${name}`;
  const db = openDatabase(url.toString(), t.dataDir);
  await dropAll(db.knex);
  await migrateLatest(db);
  return {
    db,
    // Dropped through its own connection: the suite's is closed by then.
    drop: async () => {
      await db.knex.raw('DROP DATABASE IF EXISTS ??', [name]);
      await db.close();
    },
  };
}

describeOnEachDatabase('processBatch(): batched and one event at a time agree', (t) => {
  let twin: Awaited<ReturnType<typeof openTwin>>;
  before(async () => {
    twin = await openTwin(t);
  });
  after(async () => {
    await twin.drop();
  });

  /**
   * The same users and shared accounts on a fresh database: two users restricted with little
   * credit, one with none and a small overdraft, one unrestricted; DEPT restricted with a little
   * credit and a multiplier (its credit runs out during a sequence), GRANT unrestricted with a
   * PIN and dan's active account, OLD archived.
   */
  async function servicesWithUsers(db: Database): Promise<ReturnType<typeof createServices>> {
    const s = createServices(db);
    await accountFor(s, { username: 'ann', restricted: true, initialCredit: 200 });
    await accountFor(s, { username: 'bob', restricted: true, initialCredit: 40 });
    await accountFor(s, { username: 'cat', restricted: false, initialCredit: 0 });
    await accountFor(s, { username: 'dan', restricted: true, initialCredit: 0, creditLimit: 25 });
    await s.groups.create({ name: 'staff' });
    await s.groups.addMembers('staff', ['ann', 'bob']);
    const dept = await s.accounts.create({ name: 'Dept', code: 'DEPT', restricted: true, creditLimit: 50, multiplierBp: 15000 }, 'test');
    await s.accounts.grant('Dept', { group: 'staff' }, 'test');
    await s.accounts.grant('Dept', { user: 'cat' }, 'test');
    await s.balances.adjust({ accountId: dept.id, amount: 300, key: 'fund:dept', actor: 'test', comment: 'budget' });
    await s.accounts.create({ name: 'Grant', code: 'GRANT', pin: '0042' }, 'test');
    for (const username of ['cat', 'dan']) await s.accounts.grant('Grant', { user: username }, 'test');
    await s.accounts.setActive('dan', 'Grant', 'test');
    await s.accounts.setActive('ann', 'personal', 'test');
    await s.accounts.create({ name: 'Old', code: 'OLD' }, 'test');
    await s.accounts.grant('Old', { everyone: true }, 'test');
    await s.accounts.archive('Old', 'test');
    return s;
  }

  for (const seed of SEEDS) {
    it(`gives identical outcomes, ledgers, reservations, jobs and balances for ${EVENTS_PER_SEED} random events (seed ${seed})`, async () => {
      const replay = `seed ${seed}: rerun with QUOTIENT_DIFF_SEED=${seed}`;
      const events = randomEvents(seed, EVENTS_PER_SEED);
      const single = await servicesWithUsers(t.db);
      const batched = await servicesWithUsers(twin.db);

      const one: JobOutcome[] = [];
      for (const event of events) one.push(...(await single.printing.processBatch([event])));
      const many: JobOutcome[] = [];
      const sizes: number[] = [];
      const size = rng(seed ^ 0x5bd1e995);
      for (let i = 0; i < events.length;) {
        const n = 1 + Math.floor(size() * MAX_BATCH);
        many.push(...(await batched.printing.processBatch(events.slice(i, i + n))));
        sizes.push(Math.min(n, events.length - i));
        i += n;
      }

      assert.deepEqual(many.map(comparable), one.map(comparable), `${replay}: outcomes (batches of ${sizes.join(', ')})`);
      assert.deepEqual(await books(twin.db), await books(t.db), `${replay}: books`);
      assert.deepEqual([(await single.ledger.verify()).problems, (await batched.ledger.verify()).problems], [[], []], replay);
      // The sequence did what it is for: charges, holds, denials and failed events all happened.
      const kinds = new Set<string>(one.map((o) => (o.kind === 'authorized' && !o.allowed ? 'denied' : o.kind)));
      for (const kind of ['authorized', 'denied', 'committed', 'released', 'recorded', 'expired', 'error'])
        assert.ok(kinds.has(kind), `${replay}: no ${kind} outcome`);
      // Both shared accounts paid for jobs, and jobs naming an account they may not use were denied for it.
      const paidBy = new Set(
        ((await t.db.knex('print_jobs as j').join('accounts as a', 'a.id', 'j.account_id').distinct('a.name')) as { name: string }[]).map((r) => r.name),
      );
      assert.ok(paidBy.has('Dept') && paidBy.has('Grant'), `${replay}: jobs paid by ${[...paidBy].join(', ')}`);
      assert.deepEqual(
        one.slice(0, 5).map((o) => (o.kind === 'authorized' ? o.reason : o.kind)),
        [
          'you may not charge account GRANT',
          'wrong PIN for account GRANT',
          'account GRANT needs its PIN: print with job-account-id=GRANT-PIN',
          'account Old is archived',
          'no account has the code NOPE',
        ],
        replay,
      );
    });
  }

  it('keeps a denied account option on an authorisation when the same description is recorded offline in its batch', async () => {
    // Offline records fall back to the active account; the authorisation beside it must not.
    const job = jobDescription({ jobId: 'urn:uuid:diff-both-kinds', username: 'ann', accountCode: 'NOPE', pages: 2 });
    const events: JobEvent[] = [
      { kind: 'authorize', secondary: 'print-1', job },
      { kind: 'offline', secondary: 'print-1', job, printedPages: 2, free: false },
    ];
    const single = await servicesWithUsers(t.db);
    const batched = await servicesWithUsers(twin.db);
    const one: JobOutcome[] = [];
    for (const event of events) one.push(...(await single.printing.processBatch([event])));
    const many = await batched.printing.processBatch(events);
    assert.deepEqual(many.map(comparable), one.map(comparable));
    assert.deepEqual(one.map(comparable), [
      { kind: 'authorized', jobId: job.jobId, allowed: false, reason: 'no account has the code NOPE', cost: 0, charged: true },
      { kind: 'error', jobId: job.jobId, code: 'INVALID_STATE' },
    ]);
    assert.deepEqual(await books(twin.db), await books(t.db));
  });

  // The suite's own database is emptied before each test by the harness; the twin here.
  beforeEach(async () => {
    await truncateAll(twin.db.knex);
  });
});
