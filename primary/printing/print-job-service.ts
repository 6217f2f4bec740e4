/**
 * The print charge path: authorise (price, check, reserve), commit (charge what printed),
 * release, and record jobs printed while the primary was away, for batches of events in ONE
 * durable transaction. Every step is idempotent on the CUPS job UUID. One-job calls go through
 * a group committer, so concurrent calls share commits.
 *
 * A batch runs in three phases: before the transaction, printers, rate cards and unknown users
 * are resolved (created when needed) through the ordinary services; inside it, the accounts the
 * batch touches are locked in id order, then the events run in order; when one fails (unknown
 * job, bad state) the batch is run again with a savepoint per event, so the failed event changes
 * nothing and the others still commit.
 */
import { ForbiddenError, isQuotientError, NotFoundError, InvalidStateError, ValidationError } from '../../common/errors';
import { formatAmount, type CurrencyFormat, type Money } from '../../common/money';
import { chooseAccount, loadChargeContext, type AccountChoice } from '../accounts/account-choice';
import { parseJobAccount } from '../accounts/account-names';
import { ensurePairs } from '../accounts/allocations';
import type { Database } from '../db/connection';
import { runReads, runTransaction, type SqlTx } from '../db/sql-runner';
import { commitIn, commitLockedIn, releaseIn, releaseLockedIn } from '../ledger/ledger-service';
import { BatchAccounts } from '../ledger/batch-accounts';
import { canSpend, findReservationById, holdReservation, lockAccounts, postEntry } from '../ledger/postings';
import type { Reservation } from '../ledger/types';
import { priceJob } from '../pricing/price-job';
import { payNewPairs } from '../quotas/quota-service';
import type { RateCard } from '../pricing/rate-card';
import type { SettingsService } from '../settings/settings-service';
import { normaliseUsername, type UserService } from '../users/user-service';
import { GroupCommitter } from './group-commit';
import { jobIdOf, type JobDescription, type JobEvent, type JobOutcome } from './job-events';
import { checkFilters, type PrinterFilters, type RecentJob } from './printer-filters';
import type { Printer, PrinterRegistry } from './printer-registry';

/** Ledger and reservation key of a print job. */
export const printKey = (jobId: string): string => `print:${jobId}`;

/** Between a CUPS job UUID and the number of a later attempt to print it: `urn:uuid:…#2`. */
export const ATTEMPT_SEPARATOR = '#';

/** authorised (its cost held), printed, cancelled (released), denied, or expired (released by the expiry sweep). */
export type JobStatus = 'authorised' | 'printed' | 'cancelled' | 'denied' | 'expired';

interface JobRow {
  id: number | string;
  job_uuid: string;
  printer_id: number;
  account_id: number | null;
  pages: number;
  colour_pages: number;
  copies: number;
  duplex: number | boolean;
  paper_size: string;
  finishings: string;
  cost: number | string;
  status: JobStatus;
  reason: string;
  /** The secondary that authorised (or recorded) the job: the only one that may settle it. */
  secondary: string;
  authorised_at: number | string | null;
  charged: number | boolean;
  rate_card_id: number | null;
  multiplier_bp: number;
  reservation_id: number | string | null;
}

/** JobRow's columns: a job is read on every commit, and the other columns are never used there. */
const JOB_COLUMNS =
  'id, job_uuid, printer_id, account_id, pages, colour_pages, copies, duplex, paper_size, finishings, cost, status, reason, secondary, authorised_at, charged, rate_card_id, multiplier_bp, reservation_id';

interface UserAccount {
  userId: number;
  accountId: number;
  disabled: boolean;
  multiplierBp: number;
}

/** What the phase before the transaction learnt, for the events of one batch. */
interface BatchContext {
  printers: Map<string, Printer>;
  cards: Map<number, RateCard>;
  users: Map<string, UserAccount>;
  unknownUsersDenied: Set<string>;
  /**
   * The account each job of the batch charges (or why it may not), by its description
   * (accounts/account-choice.ts); apart for offline records, which fall back to the active
   * account, since one description may come in both kinds of event.
   */
  choices: Record<'authorize' | 'offline', Map<JobDescription, AccountChoice>>;
  currency: CurrencyFormat;
  defaultCreditLimit: Money;
  now: number;
}

const printerKey = (secondary: string, queue: string): string => `${secondary}\u0000${queue}`;

/** An event of a batch run without savepoints failed: the batch is run again with them. */
class EventFailed extends Error {}

export class PrintJobService {
  private readonly db: Database;
  private readonly printers: PrinterRegistry;
  private readonly users: UserService;
  private readonly settings: SettingsService;
  private readonly now: () => number;
  private readonly committer: GroupCommitter<JobEvent, JobOutcome>;

  constructor(deps: { db: Database; printers: PrinterRegistry; users: UserService; settings: SettingsService; now?: () => number }) {
    this.db = deps.db;
    this.printers = deps.printers;
    this.users = deps.users;
    this.settings = deps.settings;
    this.now = deps.now ?? Date.now;
    this.committer = new GroupCommitter((events) => this.processBatch(events));
  }

  /** One event, group-committed with whatever else is arriving; per-event errors are thrown. */
  async submit(event: JobEvent): Promise<JobOutcome> {
    const outcome = await this.committer.submit(event);
    if (outcome.kind === 'error') throw outcome.error;
    return outcome;
  }

  /** The same, with a per-event error as an outcome instead of a rejection. */
  submitOutcome(event: JobEvent): Promise<JobOutcome> {
    return this.committer.submit(event);
  }

  /** Many events in one transaction; each answered in order, errors per event. */
  async processBatch(events: JobEvent[]): Promise<JobOutcome[]> {
    if (events.length === 0) return [];
    const ctx = await this.prepare(events);
    // Savepoints cost SQLite a statement journal for every page an event writes (about a quarter
    // of a batch's time, docs/performance-log.md), and an event that fails is rare: run the batch without
    // them, and only if an event fails, roll it all back and run it again with one per event.
    try {
      return await this.runBatch(events, ctx, false);
    } catch (err) {
      if (!(err instanceof EventFailed)) throw err;
    }
    return this.runBatch(events, ctx, true);
  }

  private runBatch(events: JobEvent[], ctx: BatchContext, savepoints: boolean): Promise<JobOutcome[]> {
    return runTransaction(this.db, async (tx) => {
      const locked = await this.accountsTouched(tx, events, ctx);
      await lockAccounts(tx, locked);
      const accounts = new BatchAccounts(tx, new Set(locked));
      await accounts.readLocked();
      const outcomes: JobOutcome[] = [];
      for (const event of events) {
        if (!savepoints) {
          try {
            outcomes.push(await this.apply(tx, accounts, event, ctx));
          } catch (err) {
            throw isQuotientError(err) ? new EventFailed() : err;
          }
          continue;
        }
        // What the savepoint keeps must be in the database, so a rollback to it leaves nothing in memory.
        await accounts.flush();
        await tx.exec('SAVEPOINT job_event');
        try {
          outcomes.push(await this.apply(tx, accounts, event, ctx));
          await tx.exec('RELEASE SAVEPOINT job_event');
        } catch (err) {
          if (!isQuotientError(err)) throw err; // a database failure fails the batch, to be retried whole
          await tx.exec('ROLLBACK TO SAVEPOINT job_event');
          accounts.forget();
          await tx.exec('RELEASE SAVEPOINT job_event');
          outcomes.push({ kind: 'error', jobId: jobIdOf(event), error: err });
        }
      }
      await accounts.flush();
      return outcomes;
    });
  }

  // ---- phase 1: outside the transaction ----

  private async prepare(events: JobEvent[]): Promise<BatchContext> {
    const ctx: BatchContext = {
      printers: new Map(),
      cards: new Map(),
      users: new Map(),
      unknownUsersDenied: new Set(),
      choices: { authorize: new Map(), offline: new Map() },
      currency: await this.settings.currency(),
      defaultCreditLimit: await this.settings.get('accounts.defaultCreditLimit'),
      now: this.now(),
    };
    const usernames = new Set<string>();
    /** Users of jobs already printed offline: created whatever the policy, so the pages are on record. */
    const printedBy = new Set<string>();
    for (const event of events) {
      if (event.kind !== 'authorize' && event.kind !== 'offline') continue;
      const key = printerKey(event.secondary, event.job.queue);
      if (!ctx.printers.has(key)) {
        const printer = await this.printers.resolve(event.secondary, event.job.queue);
        ctx.printers.set(key, printer);
        const card = await this.printers.rateCardOf(printer);
        if (card && printer.rateCardId !== null) ctx.cards.set(printer.rateCardId, card);
      }
      const username = normaliseUsername(event.job.username);
      usernames.add(username);
      if (event.kind === 'offline') printedBy.add(username);
    }
    await this.loadUsers(ctx, [...usernames]);
    const missing = [...usernames].filter((u) => !ctx.users.has(u));
    if (missing.length > 0) {
      const deny = (await this.settings.get('printing.unknownUsers')) === 'deny';
      const create = deny ? missing.filter((u) => printedBy.has(u)) : missing;
      for (const u of missing) if (!create.includes(u)) ctx.unknownUsersDenied.add(u);
      for (const username of create) {
        try {
          await this.users.createOnDemand(username, 'system:print-on-demand');
        } catch (err) {
          if ((err as { code?: string }).code !== 'ALREADY_EXISTS') throw err; // created meanwhile
        }
      }
      await this.loadUsers(ctx, create);
    }
    await this.chooseAccounts(ctx, events);
    return ctx;
  }

  /**
   * The account each job charges, read before the transaction like the users: the one the job
   * names, else the user's active account. A job printed offline cannot be denied any more: when
   * the account it names may not be charged, it charges the active account.
   */
  private async chooseAccounts(ctx: BatchContext, events: JobEvent[]): Promise<void> {
    const jobs: JobDescription[] = [];
    for (const e of events) if (e.kind === 'authorize' || e.kind === 'offline') jobs.push(e.job);
    if (jobs.length === 0) return;
    const codes = new Set(jobs.filter((j) => j.accountCode.trim() !== '').map((j) => parseJobAccount(j.accountCode).code));
    const userIds = [...new Set([...ctx.users.values()].map((u) => u.userId))];
    const charge = await runReads(this.db, (q) => loadChargeContext(q, userIds, [...codes]));
    for (const e of events) {
      if (e.kind !== 'authorize' && e.kind !== 'offline') continue;
      const user = ctx.users.get(normaliseUsername(e.job.username));
      if (!user) continue;
      const input = {
        userId: user.userId,
        personal: { accountId: user.accountId, multiplierBp: user.multiplierBp },
        requested: e.job.accountCode,
        now: ctx.now,
      };
      let choice = chooseAccount(charge, input);
      if ('denied' in choice && e.kind === 'offline') choice = chooseAccount(charge, { ...input, requested: '' });
      ctx.choices[e.kind].set(e.job, choice);
    }
    await this.chargePairs(ctx);
  }

  /**
   * A job charged to a per-user allocation account charges the user's own balance on it (the
   * pair): made here, in a transaction of its own, when this is the user's first job there, and
   * paid the allocation of the account's latest period (accounts/allocations.ts).
   */
  private async chargePairs(ctx: BatchContext): Promise<void> {
    const wanted = new Map<number, Set<number>>();
    const all = [...ctx.choices.authorize, ...ctx.choices.offline];
    for (const [job, choice] of all) {
      const user = ctx.users.get(normaliseUsername(job.username));
      const shared = 'accountId' in choice ? choice.shared : undefined;
      if (!user || !shared || shared.allocationLimit === null) continue;
      wanted.set(shared.id, (wanted.get(shared.id) ?? new Set()).add(user.userId));
    }
    if (wanted.size === 0) return;
    const pairs = await runTransaction(this.db, async (tx) => {
      const found = new Map<number, Map<number, number>>();
      for (const [accountId, userIds] of wanted) {
        const made = await ensurePairs(tx, accountId, [...userIds], ctx.now);
        await payNewPairs(tx, accountId, made.created, ctx.now);
        found.set(accountId, made.pairs);
      }
      return found;
    });
    for (const choices of [ctx.choices.authorize, ctx.choices.offline]) {
      for (const [job, choice] of choices) {
        const user = ctx.users.get(normaliseUsername(job.username));
        if (!user || !('accountId' in choice) || !choice.shared) continue;
        const pairId = pairs.get(choice.shared.id)?.get(user.userId);
        if (pairId !== undefined) choices.set(job, { ...choice, accountId: pairId });
      }
    }
  }

  /** Every batch looks its users up: prepared statements (one per IN-list length), not knex. */
  private async loadUsers(ctx: BatchContext, usernames: string[]): Promise<void> {
    if (usernames.length === 0) return;
    await runReads(this.db, async (q) => {
      for (let i = 0; i < usernames.length; i += 500) {
        const chunk = usernames.slice(i, i + 500);
        const rows = await q.all<{ user_id: number; username: string; disabled: number | boolean; account_id: number; cost_multiplier_bp: number }>(
          `SELECT users.id AS user_id, users.username, users.disabled, accounts.id AS account_id, accounts.cost_multiplier_bp
             FROM users JOIN accounts ON accounts.user_id = users.id
            WHERE accounts.type = 'personal' AND users.username IN (${chunk.map(() => '?').join(',')})`,
          chunk,
        );
        for (const r of rows) {
          ctx.users.set(r.username, { userId: r.user_id, accountId: r.account_id, disabled: Boolean(r.disabled), multiplierBp: r.cost_multiplier_bp });
        }
      }
    });
  }

  // ---- phase 2: inside the transaction ----

  private async accountsTouched(tx: SqlTx, events: JobEvent[], ctx: BatchContext): Promise<number[]> {
    const ids = new Set<number>();
    const settled: string[] = [];
    for (const event of events) {
      if (event.kind === 'authorize' || event.kind === 'offline') {
        const choice = ctx.choices[event.kind].get(event.job);
        if (choice && 'accountId' in choice) ids.add(choice.accountId);
      } else {
        settled.push(event.jobId);
      }
    }
    for (let i = 0; i < settled.length; i += 500) {
      const chunk = settled.slice(i, i + 500);
      const rows = await tx.all<{ account_id: number | null }>(
        `SELECT account_id FROM print_jobs WHERE job_uuid IN (${chunk.map(() => '?').join(',')})`,
        chunk,
      );
      for (const r of rows) if (r.account_id !== null) ids.add(r.account_id);
    }
    return [...ids];
  }

  private apply(tx: SqlTx, accounts: BatchAccounts, event: JobEvent, ctx: BatchContext): Promise<JobOutcome> {
    switch (event.kind) {
      case 'authorize':
        return this.authorize(tx, accounts, event.secondary, event.job, ctx);
      case 'commit':
        return this.commit(tx, accounts, event.secondary, event.jobId, event.printedPages, ctx);
      case 'release':
        return this.release(tx, accounts, event.secondary, event.jobId, event.reason, ctx);
      case 'offline':
        return this.recordOffline(tx, accounts, event.secondary, event.job, event.printedPages, event.free, ctx);
      case 'expire':
        return this.expire(tx, accounts, event.jobId, event.authorisedBefore, event.actor, ctx);
    }
  }

  private async findJob(tx: SqlTx, jobId: string): Promise<JobRow | undefined> {
    return tx.get<JobRow>(`SELECT ${JOB_COLUMNS} FROM print_jobs WHERE job_uuid = ?`, [jobId]);
  }

  /**
   * The attempt of a CUPS job an authorisation is about. CUPS keeps a job's UUID when it retries
   * the job and when its owner restarts it (Restart-Job, allowed while the files are kept, a day
   * by default). An attempt still authorised is what a retry asks about again: it gets the first
   * answer. One that ended (printed, or released) answers for nothing new: the next attempt is
   * charged on its own as `<uuid>#2`, `<uuid>#3`, ... (the id the answer carries, and the one its
   * commit or release names).
   */
  private async currentAttempt(tx: SqlTx, secondary: string, jobId: string): Promise<{ jobId: string; row?: JobRow }> {
    if (jobId.includes(ATTEMPT_SEPARATOR))
      throw new ValidationError(`job.jobId must not contain "${ATTEMPT_SEPARATOR}" (it numbers the attempts of a job)`, { field: 'job.jobId' });
    for (let n = 1; ; n++) {
      const id = n === 1 ? jobId : `${jobId}${ATTEMPT_SEPARATOR}${n}`;
      if (id.length > 191) throw new ValidationError('job.jobId is too long to print the job again', { field: 'job.jobId' });
      const row = await this.findJob(tx, id);
      if (!row) return { jobId: id };
      if (n === 1) ensureOwnJob(row, secondary, jobId);
      if (row.status !== 'printed' && row.status !== 'cancelled' && row.status !== 'expired') return { jobId: id, row };
    }
  }

  private async authorize(tx: SqlTx, accounts: BatchAccounts, secondary: string, requested: JobDescription, ctx: BatchContext): Promise<JobOutcome> {
    const attempt = await this.currentAttempt(tx, secondary, requested.jobId);
    if (attempt.row) return authorizedFrom(attempt.row);
    const job = attempt.jobId === requested.jobId ? requested : { ...requested, jobId: attempt.jobId };
    const printer = ctx.printers.get(printerKey(secondary, job.queue));
    if (!printer) throw new NotFoundError('printer', `${secondary}/${job.queue}`);
    const username = normaliseUsername(job.username);
    const user = ctx.users.get(username);
    const card = printer.rateCardId === null ? undefined : ctx.cards.get(printer.rateCardId);
    const choice = ctx.choices.authorize.get(requested);
    const chosen = choice && 'accountId' in choice ? choice : undefined;

    /** Records this attempt as decided (denied, or authorised with or without a reservation) and answers the secondary. */
    const record = async (decision: { allowed: boolean; reason: string; cost: Money; charged: boolean; reservationId: number | null }): Promise<JobOutcome> => {
      await this.insertJob(
        tx,
        {
          secondary,
          job,
          printer,
          user,
          accountId: chosen?.accountId ?? user?.accountId ?? null,
          card: printer.rateCardId,
          multiplierBp: chosen?.multiplierBp ?? user?.multiplierBp ?? 10000,
          cost: decision.cost,
          status: decision.allowed ? 'authorised' : 'denied',
          reason: decision.reason,
          charged: decision.charged,
          reservationId: decision.reservationId,
          ledgerId: null,
          printedPages: null,
        },
        ctx.now,
      );
      const { allowed, reason, cost, charged } = decision;
      return { kind: 'authorized', jobId: job.jobId, allowed, reason, cost, charged };
    };
    const deny = (reason: string, cost: Money): Promise<JobOutcome> =>
      record({ allowed: false, reason, cost, charged: printer.chargingEnabled, reservationId: null });

    if (!user) return deny(ctx.unknownUsersDenied.has(username) ? `unknown user ${username}` : `user ${username} could not be created`, 0);
    if (user.disabled) return deny('your account is disabled', 0);
    if (!printer.enabled) return deny('this printer is disabled', 0);
    if (printer.filters === null) return deny("this printer's restrictions cannot be read; ask an administrator", 0);
    if (!card) return deny('this printer has no rate card; ask an administrator', 0);
    if (!chosen) return deny(choice && 'denied' in choice ? choice.denied : 'no account to charge', 0);
    let cost: Money;
    try {
      cost = priceJob(card, job, chosen.multiplierBp).total;
    } catch (err) {
      if (err instanceof ValidationError) return deny(err.message, 0);
      throw err;
    }
    // Restrictions hold on passthrough printers too: they are about what may print, not what it costs.
    const refused = await this.refusedByFilters(tx, printer.id, printer.filters, job, user, cost, ctx);
    if (refused !== undefined) return deny(refused, cost);
    if (!printer.chargingEnabled || cost === 0) {
      return record({ allowed: true, reason: '', cost, charged: printer.chargingEnabled, reservationId: null });
    }
    const account = await accounts.get(chosen.accountId);
    const allocation = chosen.shared?.allocationLimit ?? null;
    if (!canSpend(account, cost, ctx.defaultCreditLimit)) {
      const available = formatAmount(Math.max(account.balance - account.reserved + (account.creditLimit ?? ctx.defaultCreditLimit), 0), ctx.currency);
      const price = formatAmount(cost, ctx.currency);
      return deny(
        allocation !== null
          ? `your allocation in account ${chosen.shared?.name} is used up: this job costs ${price} and you have ${available} left`
          : chosen.shared
            ? `not enough credit in account ${chosen.shared.name}: this job costs ${price} and it has ${available} available`
            : `not enough credit: this job costs ${price} and you have ${available} available`,
        cost,
      );
    }
    // A soft limit lets the job go past the allocation; the answer says by how much.
    const past = account.reserved + cost - account.balance;
    const warning =
      allocation === 'soft' && past > 0
        ? `warning: this job takes you ${formatAmount(past, ctx.currency)} past your allocation in account ${chosen.shared?.name}`
        : '';
    const reservation = await holdReservation(
      tx,
      account,
      cost,
      'print',
      { key: printKey(job.jobId), reference: `job:${job.jobId}`, actor: `secondary:${secondary}` },
      ctx.now,
      accounts,
    );
    return record({ allowed: true, reason: warning, cost, charged: true, reservationId: reservation.id });
  }

  /** Why the printer's filters refuse the job, if they do; the duplicate query runs only for a printer with a window. */
  private async refusedByFilters(
    tx: SqlTx,
    printerId: number,
    filters: PrinterFilters,
    job: JobDescription,
    user: UserAccount,
    cost: Money,
    ctx: BatchContext,
  ): Promise<string | undefined> {
    const price = { cost, currency: ctx.currency };
    const reason = checkFilters(filters, job, price);
    if (reason !== undefined || filters.duplicateWindowSeconds === undefined) return reason;
    const recent = await this.recentDuplicate(tx, printerId, user.userId, job, filters.duplicateWindowSeconds, ctx.now);
    return recent === undefined ? undefined : checkFilters(filters, job, price, recent);
  }

  /**
   * The latest job this one duplicates: the same user, printer, document name and page count,
   * authorised or printed within the window before it (times are when each job was submitted,
   * as print_jobs.created_at records them). Another attempt of the same CUPS job (Restart-Job,
   * `<uuid>#2`) is a deliberate reprint, not a duplicate. The (user_id, created_at) index finds
   * the few rows; the name is compared here, so MySQL's case-insensitive collation and SQLite's
   * binary one give the same answer.
   */
  private async recentDuplicate(
    tx: SqlTx,
    printerId: number,
    userId: number,
    job: JobDescription,
    windowSeconds: number,
    now: number,
  ): Promise<RecentJob | undefined> {
    const at = job.submittedAt || now;
    const rows = await tx.all<{ job_uuid: string; document_name: string; created_at: number | string }>(
      `SELECT job_uuid, document_name, created_at FROM print_jobs
        WHERE user_id = ? AND created_at >= ? AND printer_id = ? AND pages = ? AND status IN ('authorised', 'printed')
        ORDER BY created_at DESC LIMIT 50`,
      [userId, at - windowSeconds * 1000, printerId, job.pages],
    );
    const cupsJob = cupsJobOf(job.jobId);
    const hit = rows.find((r) => r.document_name === job.documentName && cupsJobOf(r.job_uuid) !== cupsJob);
    return hit === undefined ? undefined : { ageSeconds: Math.max(0, (at - Number(hit.created_at)) / 1000) };
  }

  private async commit(
    tx: SqlTx,
    accounts: BatchAccounts,
    secondary: string,
    jobId: string,
    printedPages: number | undefined,
    ctx: BatchContext,
  ): Promise<JobOutcome> {
    const row = await this.findJob(tx, jobId);
    if (!row) throw new NotFoundError('print job', jobId);
    ensureOwnJob(row, secondary, jobId);
    if (row.status === 'printed') return { kind: 'committed', jobId, cost: Number(row.cost) };
    if (row.status === 'expired') return this.commitExpired(tx, accounts, secondary, row, printedPages, ctx);
    if (row.status !== 'authorised') throw new InvalidStateError(`job was ${row.status} and cannot be committed`, { jobId });
    const cost = await this.finalCost(row, printedPages);
    let ledgerId: number | null = null;
    if (Boolean(row.charged) && Number(row.cost) > 0) {
      const req = { key: printKey(jobId), amount: cost };
      const held = await this.heldReservation(tx, accounts, row, req.key);
      if (held) ledgerId = (await commitLockedIn(tx, held, accounts.get, req, ctx.now, accounts)).id;
      else {
        await accounts.flush();
        const entry = await commitIn(tx, req, ctx.now);
        accounts.forget(entry.accountId); // changed behind the batch's copy of the row
        ledgerId = entry.id;
      }
    } else if (Boolean(row.charged) && cost > 0 && row.account_id !== null) {
      // Authorised at no cost (nothing held), but the backend printed pages: charge them.
      const account = await accounts.get(row.account_id);
      ledgerId = (await postEntry(tx, account, -cost, 'print', { key: printKey(jobId), reference: `job:${jobId}` }, ctx.now, accounts)).id;
    }
    await tx.run("UPDATE print_jobs SET status = 'printed', cost = ?, printed_pages = ?, ledger_id = ?, settled_at = ? WHERE id = ?", [
      cost,
      printedPages ?? null,
      ledgerId,
      ctx.now,
      row.id,
    ]);
    return { kind: 'committed', jobId, cost };
  }

  /**
   * The job's reservation, read by the id the job records, when the batch holds the lock on its
   * account (it locked every account its events touch); otherwise undefined, and the caller goes
   * the general way, which finds it by key and locks it.
   */
  private async heldReservation(tx: SqlTx, accounts: BatchAccounts, row: JobRow, key: string): Promise<Reservation | undefined> {
    if (row.reservation_id === null) return undefined;
    const reservation = await findReservationById(tx, Number(row.reservation_id));
    return reservation && reservation.idempotencyKey === key && accounts.isLocked(reservation.accountId) ? reservation : undefined;
  }

  private async release(tx: SqlTx, accounts: BatchAccounts, secondary: string, jobId: string, reason: string, ctx: BatchContext): Promise<JobOutcome> {
    const row = await this.findJob(tx, jobId);
    // Nothing held, nothing to release: a secondary that printed a job offline (or not at all)
    // sends its release in case the primary reserved it just before the connection dropped.
    if (!row) return { kind: 'released', jobId };
    ensureOwnJob(row, secondary, jobId);
    if (row.status === 'cancelled' || row.status === 'denied' || row.status === 'expired') return { kind: 'released', jobId };
    if (row.status === 'printed') throw new InvalidStateError('job was printed and cannot be released', { jobId });
    await this.releaseHeld(tx, accounts, row, ctx);
    await tx.run("UPDATE print_jobs SET status = 'cancelled', reason = ?, settled_at = ? WHERE id = ?", [reason.slice(0, 512), ctx.now, row.id]);
    return { kind: 'released', jobId };
  }

  /** Gives back what an authorised job holds (nothing for a passthrough or free job). */
  private async releaseHeld(tx: SqlTx, accounts: BatchAccounts, row: JobRow, ctx: BatchContext): Promise<void> {
    if (!row.charged || Number(row.cost) <= 0) return;
    const key = printKey(row.job_uuid);
    const held = await this.heldReservation(tx, accounts, row, key);
    if (held) await releaseLockedIn(tx, held, accounts.get, ctx.now, accounts);
    else {
      await accounts.flush();
      accounts.forget((await releaseIn(tx, key, ctx.now)).accountId); // changed behind the batch's copy
    }
  }

  /**
   * The expiry sweep's step (authorisation-expiry.ts): a job still authorised since before
   * `authorisedBefore` is released, marked expired, and written in the audit log, in one
   * transaction. Anything else is left alone, so running it twice, or on two primaries sharing
   * the database, expires a job once: the conditional UPDATE is the decision, taken under the
   * account's lock (and the row's, on MySQL).
   */
  private async expire(tx: SqlTx, accounts: BatchAccounts, jobId: string, authorisedBefore: number, actor: string, ctx: BatchContext): Promise<JobOutcome> {
    const row = await this.findJob(tx, jobId);
    const unchanged: JobOutcome = { kind: 'expired', jobId, expired: false, amount: 0 };
    if (!row || row.status !== 'authorised' || row.authorised_at === null || Number(row.authorised_at) >= authorisedBefore) return unchanged;
    const reason = 'authorisation expired: neither printed nor released in time';
    const { changes } = await tx.run("UPDATE print_jobs SET status = 'expired', reason = ?, settled_at = ? WHERE id = ? AND status = 'authorised'", [
      reason,
      ctx.now,
      row.id,
    ]);
    if (changes !== 1) return unchanged;
    await this.releaseHeld(tx, accounts, row, ctx);
    const amount = row.charged ? Number(row.cost) : 0;
    await tx.run('INSERT INTO audit_log (at, actor, action, target_type, target_id, details) VALUES (?, ?, ?, ?, ?, ?)', [
      ctx.now,
      actor.slice(0, 128),
      'print.authorisation.expired',
      'print_job',
      jobId,
      JSON.stringify({ released: amount, accountId: row.account_id, secondary: row.secondary, authorisedAt: Number(row.authorised_at) }),
    ]);
    return { kind: 'expired', jobId, expired: true, amount };
  }

  /**
   * A commit for a job whose authorisation expired (its hold was given back): the pages printed,
   * so they are charged now, like a job printed while the primary was away, without a credit
   * check (docs/cluster.md, "Authorisations that expire").
   */
  private async commitExpired(
    tx: SqlTx,
    accounts: BatchAccounts,
    secondary: string,
    row: JobRow,
    printedPages: number | undefined,
    ctx: BatchContext,
  ): Promise<JobOutcome> {
    const jobId = row.job_uuid;
    const cost = row.charged ? await this.finalCost(row, printedPages) : 0;
    let ledgerId: number | null = null;
    if (cost > 0 && row.account_id !== null) {
      const account = await accounts.get(row.account_id);
      const meta = { key: printKey(jobId), reference: `job:${jobId}`, actor: `secondary:${secondary}`, comment: 'printed after its authorisation expired' };
      ledgerId = (await postEntry(tx, account, -cost, 'print', meta, ctx.now, accounts)).id;
    }
    await tx.run("UPDATE print_jobs SET status = 'printed', cost = ?, printed_pages = ?, ledger_id = ?, reason = ?, settled_at = ? WHERE id = ?", [
      cost,
      printedPages ?? null,
      ledgerId,
      'printed after its authorisation expired',
      ctx.now,
      row.id,
    ]);
    return { kind: 'committed', jobId, cost };
  }

  /** A job printed while the primary was unreachable: charged now without a credit check (or free). */
  private async recordOffline(
    tx: SqlTx,
    accounts: BatchAccounts,
    secondary: string,
    job: JobDescription,
    printedPages: number | undefined,
    free: boolean,
    ctx: BatchContext,
  ): Promise<JobOutcome> {
    const existing = await this.findJob(tx, job.jobId);
    if (existing) {
      ensureOwnJob(existing, secondary, job.jobId);
      if (existing.status === 'printed') return { kind: 'recorded', jobId: job.jobId, cost: Number(existing.cost) };
      if (free && (existing.status === 'authorised' || existing.status === 'expired')) {
        // Authorised just before the primary became unreachable, the answer lost; the secondary
        // then printed it free by the failure mode, as it told the user: give the hold back.
        if (existing.status === 'authorised') await this.releaseHeld(tx, accounts, existing, ctx);
        await tx.run("UPDATE print_jobs SET status = 'printed', cost = 0, printed_pages = ?, reason = ?, settled_at = ? WHERE id = ?", [
          printedPages ?? null,
          'printed free (failure mode)',
          ctx.now,
          existing.id,
        ]);
        return { kind: 'recorded', jobId: job.jobId, cost: 0 };
      }
      if (existing.status === 'authorised' || existing.status === 'expired') {
        const committed = await this.commit(tx, accounts, secondary, job.jobId, printedPages, ctx);
        return { kind: 'recorded', jobId: job.jobId, cost: committed.kind === 'committed' ? committed.cost : 0 };
      }
      throw new InvalidStateError(`job was ${existing.status} and cannot be recorded as printed`, { jobId: job.jobId });
    }
    const printer = ctx.printers.get(printerKey(secondary, job.queue));
    if (!printer) throw new NotFoundError('printer', `${secondary}/${job.queue}`);
    const user = ctx.users.get(normaliseUsername(job.username));
    if (!user) throw new NotFoundError('user', job.username);
    const choice = ctx.choices.offline.get(job);
    const payer = choice && 'accountId' in choice ? choice : { accountId: user.accountId, multiplierBp: user.multiplierBp };
    const card = printer.rateCardId === null ? undefined : ctx.cards.get(printer.rateCardId);
    const charged = printer.chargingEnabled && !free;
    // Priced even when free, so reports show what it would have cost; a printer with no card records 0.
    const cost = card ? priceJob(card, withPrintedPages(job, printedPages), payer.multiplierBp).total : 0;
    let ledgerId: number | null = null;
    if (charged && cost > 0) {
      const account = await accounts.get(payer.accountId);
      const entry = await postEntry(
        tx,
        account,
        -cost,
        'print',
        { key: printKey(job.jobId), reference: `job:${job.jobId}`, actor: `secondary:${secondary}`, comment: 'printed while the primary was unreachable' },
        ctx.now,
        accounts,
      );
      ledgerId = entry.id;
    }
    await this.insertJob(
      tx,
      {
        secondary,
        job,
        printer,
        user,
        accountId: payer.accountId,
        card: printer.rateCardId,
        multiplierBp: payer.multiplierBp,
        cost: charged ? cost : 0,
        status: 'printed',
        reason: free ? 'printed free (failure mode)' : 'printed while the primary was unreachable',
        charged,
        reservationId: null,
        ledgerId,
        printedPages: printedPages ?? null,
      },
      ctx.now,
    );
    return { kind: 'recorded', jobId: job.jobId, cost: charged ? cost : 0 };
  }

  /** The charge for what actually printed: repriced with the backend's page count, else as authorised. */
  private async finalCost(row: JobRow, printedPages: number | undefined): Promise<Money> {
    if (printedPages === undefined || row.rate_card_id === null) return Number(row.cost);
    const card = await this.printers.rateCard(row.rate_card_id);
    const job = {
      pages: row.pages,
      colourPages: row.colour_pages,
      copies: row.copies,
      duplex: Boolean(row.duplex),
      paperSize: row.paper_size,
      finishings: row.finishings ? row.finishings.split(',') : [],
    };
    return priceJob(card, withPrintedPages(job, printedPages), row.multiplier_bp).total;
  }

  private async insertJob(
    tx: SqlTx,
    j: {
      secondary: string;
      job: JobDescription;
      printer: Printer;
      user: UserAccount | undefined;
      /** The account the job charges (or, denied, would have charged). */
      accountId: number | null;
      card: number | null;
      multiplierBp: number;
      cost: Money;
      status: JobRow['status'];
      reason: string;
      charged: boolean;
      reservationId: number | null;
      ledgerId: number | null;
      printedPages: number | null;
    },
    now: number,
  ): Promise<void> {
    await tx.run(
      `INSERT INTO print_jobs (job_uuid, printer_id, user_id, account_id, username, document_name, pages, colour_pages, copies, duplex, paper_size, cost, status, reason,
        reservation_id, ledger_id, created_at, settled_at, secondary, finishings, client_host, charged, rate_card_id, multiplier_bp, printed_pages, authorised_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        j.job.jobId,
        j.printer.id,
        j.user?.userId ?? null,
        j.accountId,
        normaliseUsername(j.job.username),
        j.job.documentName,
        j.job.pages,
        j.job.colourPages,
        j.job.copies,
        j.job.duplex,
        j.job.paperSize,
        j.cost,
        j.status,
        j.reason.slice(0, 512),
        j.reservationId,
        j.ledgerId,
        j.job.submittedAt || now,
        j.status === 'printed' || j.status === 'denied' ? now : null,
        j.secondary,
        j.job.finishings
          .map((f) => f.toLowerCase())
          .join(',')
          .slice(0, 255),
        j.job.clientHost,
        j.charged,
        j.card,
        j.multiplierBp,
        j.printedPages,
        // When it was authorised (created_at is when CUPS received it): the expiry sweep's clock.
        j.status === 'authorised' ? now : null,
      ],
    );
  }
}

/** Only the secondary that authorised a job may commit, release or record it (jobs from before secondaries were recorded have ''). */
function ensureOwnJob(row: JobRow, secondary: string, jobId: string): void {
  if (row.secondary !== '' && row.secondary !== secondary) throw new ForbiddenError(`job ${jobId} was authorised by another secondary`, { jobId });
}

/** The CUPS job UUID an attempt id belongs to: `urn:uuid:x#2` -> `urn:uuid:x`. */
function cupsJobOf(attemptId: string): string {
  const at = attemptId.indexOf(ATTEMPT_SEPARATOR);
  return at < 0 ? attemptId : attemptId.slice(0, at);
}

function authorizedFrom(row: JobRow): JobOutcome {
  return {
    kind: 'authorized',
    jobId: row.job_uuid,
    allowed: row.status !== 'denied',
    reason: row.reason,
    cost: Number(row.cost),
    charged: Boolean(row.charged),
  };
}

/** A job description with the backend's count of printed pages (all copies) in place of the analysed count. */
function withPrintedPages<J extends { pages: number; colourPages: number; copies: number }>(job: J, printedPages: number | undefined): J {
  if (printedPages === undefined) return job;
  const pages = Math.ceil(printedPages / job.copies);
  return { ...job, pages, colourPages: Math.min(job.colourPages, pages) };
}
