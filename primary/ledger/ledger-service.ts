/**
 * The money core: credit, debit, adjust, set balance, transfer, and reserve → commit | release.
 * Every balance change is one ledger row with the balance after it and a unique idempotency key,
 * written in the same transaction that changes the account, with the account row locked; so
 * concurrent debits never take a restricted account below its credit limit, and repeating a key
 * returns the first result without changing anything.
 */
import type { Knex } from 'knex';
import type { Database } from '../db/connection';
import { knexSqlTx, runTransaction, type SqlTx } from '../db/sql-runner';
import { InvalidStateError, IdempotencyConflictError, NotFoundError, ValidationError } from '../../common/errors';
import { assertMoney, type Money } from '../../common/money';
import type { SettingsService } from '../settings/settings-service';
import {
  KEY_MAX,
  cancelReservation,
  checkMeta,
  checkType,
  ensureSpendable,
  findEntry,
  findReservation,
  holdReservation,
  loadAccount,
  lockAccounts,
  postEntry,
  replayOf,
  settleReservation,
  toAccount,
  toEntry,
  writeNow,
  type LedgerRow,
} from './postings';
import type { Account, EntryMeta, EntryType, LedgerEntry, Reservation } from './types';

export { toAccount };

export interface ChangeRequest extends EntryMeta {
  accountId: number;
  amount: Money;
  type: EntryType;
}

export interface TransferRequest extends EntryMeta {
  fromAccountId: number;
  toAccountId: number;
  amount: Money;
  enforceLimit?: boolean;
}

export interface VerifyResult {
  accounts: number;
  ledgerRows: number;
  problems: { accountId: number; name: string; problem: string }[];
}

export class LedgerService {
  private readonly db: Database;
  private readonly settings: SettingsService;
  private readonly now: () => number;

  constructor(deps: { db: Database; settings: SettingsService; now?: () => number }) {
    this.db = deps.db;
    this.settings = deps.settings;
    this.now = deps.now ?? Date.now;
  }

  async getAccount(accountId: number, trx: Knex | Knex.Transaction = this.db.knex): Promise<Account> {
    const row = await trx('accounts').where({ id: accountId }).first();
    if (!row) throw new NotFoundError('account', accountId);
    return toAccount(row);
  }

  /** The overdraft that applies to an account: its own, or the site default. */
  async creditLimitOf(account: Account): Promise<Money> {
    return account.creditLimit ?? (await this.defaultCreditLimit());
  }

  defaultCreditLimit(): Promise<Money> {
    return this.settings.get('accounts.defaultCreditLimit');
  }

  /** Adds a positive amount (top-up, quota, refund, ...). */
  async credit(req: ChangeRequest): Promise<LedgerEntry> {
    assertMoney(req.amount, 'amount', { positive: true });
    return this.change(req, false);
  }

  /** Takes a positive amount; a restricted account is refused below its credit limit. */
  async debit(req: ChangeRequest): Promise<LedgerEntry> {
    assertMoney(req.amount, 'amount', { positive: true });
    return this.change({ ...req, amount: -req.amount }, true);
  }

  /** An administrator's signed adjustment: never refused for want of credit. */
  async adjust(req: Omit<ChangeRequest, 'type'> & { type?: EntryType }): Promise<LedgerEntry> {
    assertMoney(req.amount, 'amount');
    if (req.amount === 0) throw new ValidationError('an adjustment of zero changes nothing', { field: 'amount' });
    return this.change({ ...req, type: req.type ?? 'adjustment' }, false);
  }

  /** Sets the balance to `balance`, recording the difference (possibly zero) as one ledger row. */
  async setBalance(req: EntryMeta & { accountId: number; balance: Money; type?: EntryType }): Promise<LedgerEntry> {
    return runTransaction(this.db, (tx) => this.setBalanceIn(tx, req));
  }

  /** setBalance() inside the caller's runKnexTransaction (an audited admin change), which announces the account. */
  async setBalanceWithin(trx: Knex.Transaction, req: EntryMeta & { accountId: number; balance: Money; type?: EntryType }): Promise<LedgerEntry> {
    return this.setBalanceIn(knexSqlTx(trx, this.db.dialect), req);
  }

  /** Moves a positive amount between two accounts: two ledger rows, keys `<key>:from` and `<key>:to`. */
  async transfer(req: TransferRequest): Promise<{ from: LedgerEntry; to: LedgerEntry }> {
    const defaultLimit = await this.defaultCreditLimit();
    return runTransaction(this.db, (tx) => this.transferIn(tx, req, defaultLimit));
  }

  /** transfer() inside the caller's runKnexTransaction (with its audit row), which announces the accounts. */
  async transferWithin(trx: Knex.Transaction, req: TransferRequest): Promise<{ from: LedgerEntry; to: LedgerEntry }> {
    const defaultLimit = await this.defaultCreditLimit();
    return this.transferIn(knexSqlTx(trx, this.db.dialect), req, defaultLimit);
  }

  /** Holds `amount` against the account so concurrent jobs cannot overspend it. */
  async reserve(req: EntryMeta & { accountId: number; amount: Money; type?: EntryType; enforceLimit?: boolean }): Promise<Reservation> {
    assertMoney(req.amount, 'amount', { nonNegative: true });
    checkMeta(req);
    const type = req.type ?? 'print';
    checkType(type);
    const defaultLimit = await this.defaultCreditLimit();
    return runTransaction(this.db, async (tx) => {
      await lockAccounts(tx, [req.accountId]);
      const existing = await findReservation(tx, req.key);
      if (existing) {
        if (existing.accountId !== req.accountId || existing.amount !== req.amount || existing.type !== type) throw new IdempotencyConflictError(req.key);
        return { ...existing, replayed: true };
      }
      const account = await loadAccount(tx, req.accountId);
      if (req.enforceLimit !== false) ensureSpendable(account, req.amount, defaultLimit);
      return holdReservation(tx, account, req.amount, type, req, this.now());
    });
  }

  /**
   * Turns a held reservation into a charge of `amount` (default: the amount held), as one ledger
   * row whose idempotency key is the reservation's. The final amount may exceed the amount held:
   * the pages are already printed, so the charge is what they cost even if that passes the limit.
   */
  async commit(req: { key: string; amount?: Money; actor?: string | null; comment?: string }): Promise<LedgerEntry> {
    if (req.amount !== undefined) assertMoney(req.amount, 'amount', { nonNegative: true });
    return runTransaction(this.db, (tx) => commitIn(tx, req, this.now()));
  }

  /** Gives a held reservation back; releasing twice is harmless, releasing a committed one is an error. */
  async release(req: { key: string }): Promise<Reservation> {
    return runTransaction(this.db, (tx) => releaseIn(tx, req.key, this.now()));
  }

  async getReservation(key: string): Promise<Reservation> {
    const found = await runTransaction(this.db, (tx) => findReservation(tx, key));
    if (!found) throw new NotFoundError('reservation', key);
    return found;
  }

  /**
   * Posts a change inside the caller's runKnexTransaction (user creation's initial credit, an
   * audited adjustment), which announces the account: locks the account, replays a repeated key,
   * never refuses for want of credit.
   */
  async postWithin(trx: Knex.Transaction, req: ChangeRequest): Promise<LedgerEntry> {
    assertMoney(req.amount, 'amount');
    checkMeta(req);
    checkType(req.type);
    const tx = knexSqlTx(trx, this.db.dialect);
    await lockAccounts(tx, [req.accountId]);
    const existing = await findEntry(tx, req.key);
    if (existing) return replayOf(existing, req.accountId, req.amount, req.type);
    return postEntry(tx, await loadAccount(tx, req.accountId), req.amount, req.type, req, this.now());
  }

  /** An account's ledger, newest first, paged by id. */
  async history(accountId: number, opts: { limit?: number; beforeId?: number } = {}): Promise<LedgerEntry[]> {
    const limit = Math.min(Math.max(opts.limit ?? 50, 1), 1000);
    const q = this.db.knex('ledger').where({ account_id: accountId }).orderBy('id', 'desc').limit(limit);
    if (opts.beforeId !== undefined) q.andWhere('id', '<', opts.beforeId);
    return ((await q) as LedgerRow[]).map((r) => toEntry(r));
  }

  /**
   * Proves the books: every account's balance equals the sum of its ledger rows and its newest
   * row's balance-after, and its reserved amount equals the sum of its held reservations.
   */
  async verify(): Promise<VerifyResult> {
    const k = this.db.knex;
    const sums = k('ledger').select('account_id').sum({ total: 'amount' }).count({ rows: '*' }).max({ last_id: 'id' }).groupBy('account_id').as('l');
    const held = k('reservations').select('account_id').sum({ total: 'amount' }).where({ state: 'held' }).groupBy('account_id').as('r');
    const rows = (await k('accounts as a')
      .leftJoin(sums, 'l.account_id', 'a.id')
      .leftJoin(held, 'r.account_id', 'a.id')
      .leftJoin('ledger as last', 'last.id', 'l.last_id')
      .select(
        'a.id',
        'a.name',
        'a.balance',
        'a.reserved',
        'l.total as ledger_sum',
        'l.rows as ledger_rows',
        'r.total as held_sum',
        'last.balance_after as last_after',
      )) as {
      id: number;
      name: string;
      balance: number | string;
      reserved: number | string;
      ledger_sum: number | string | null;
      ledger_rows: number | string | null;
      held_sum: number | string | null;
      last_after: number | string | null;
    }[];
    const problems: VerifyResult['problems'] = [];
    let ledgerRows = 0;
    for (const r of rows) {
      const balance = Number(r.balance);
      const sum = Number(r.ledger_sum ?? 0);
      ledgerRows += Number(r.ledger_rows ?? 0);
      if (balance !== sum) problems.push({ accountId: r.id, name: r.name, problem: `balance ${balance} but ledger sums to ${sum}` });
      if (r.last_after !== null && Number(r.last_after) !== balance) {
        problems.push({ accountId: r.id, name: r.name, problem: `balance ${balance} but newest ledger row says ${String(r.last_after)}` });
      }
      const reserved = Number(r.reserved);
      const heldSum = Number(r.held_sum ?? 0);
      if (reserved !== heldSum) {
        problems.push({ accountId: r.id, name: r.name, problem: `reserved ${reserved} but held reservations sum to ${heldSum}` });
      }
    }
    return { accounts: rows.length, ledgerRows, problems };
  }

  // ---- internals ----

  private async setBalanceIn(tx: SqlTx, req: EntryMeta & { accountId: number; balance: Money; type?: EntryType }): Promise<LedgerEntry> {
    assertMoney(req.balance, 'balance');
    checkMeta(req);
    const type = req.type ?? 'adjustment';
    checkType(type);
    await lockAccounts(tx, [req.accountId]);
    const existing = await findEntry(tx, req.key);
    if (existing) return replayOf(existing, req.accountId, existing.amount, type, req.balance);
    const account = await loadAccount(tx, req.accountId);
    return postEntry(tx, account, req.balance - account.balance, type, req, this.now());
  }

  private async transferIn(tx: SqlTx, req: TransferRequest, defaultLimit: Money): Promise<{ from: LedgerEntry; to: LedgerEntry }> {
    assertMoney(req.amount, 'amount', { positive: true });
    checkMeta(req);
    if (req.fromAccountId === req.toAccountId) throw new ValidationError('cannot transfer to the same account', { field: 'toAccountId' });
    const fromKey = `${req.key}:from`;
    const toKey = `${req.key}:to`;
    if (toKey.length > KEY_MAX) throw new ValidationError(`idempotency key must be at most ${KEY_MAX - 5} characters for a transfer`);
    await lockAccounts(tx, [req.fromAccountId, req.toAccountId]);
    const [fromDone, toDone] = [await findEntry(tx, fromKey), await findEntry(tx, toKey)];
    if (fromDone && toDone) {
      return { from: replayOf(fromDone, req.fromAccountId, -req.amount, 'transfer'), to: replayOf(toDone, req.toAccountId, req.amount, 'transfer') };
    }
    const from = await loadAccount(tx, req.fromAccountId);
    const to = await loadAccount(tx, req.toAccountId);
    if (req.enforceLimit !== false) ensureSpendable(from, req.amount, defaultLimit);
    const now = this.now();
    return {
      from: await postEntry(tx, from, -req.amount, 'transfer', { ...req, key: fromKey }, now),
      to: await postEntry(tx, to, req.amount, 'transfer', { ...req, key: toKey }, now),
    };
  }

  private async change(req: ChangeRequest, enforceLimit: boolean): Promise<LedgerEntry> {
    checkMeta(req);
    checkType(req.type);
    const defaultLimit = enforceLimit ? await this.defaultCreditLimit() : 0;
    return runTransaction(this.db, async (tx) => {
      await lockAccounts(tx, [req.accountId]);
      const existing = await findEntry(tx, req.key);
      if (existing) return replayOf(existing, req.accountId, req.amount, req.type);
      const account = await loadAccount(tx, req.accountId);
      if (enforceLimit) ensureSpendable(account, -req.amount, defaultLimit);
      return postEntry(tx, account, req.amount, req.type, req, this.now());
    });
  }
}

/** Locks a reservation's account and reads the reservation again under the lock. */
async function lockedReservation(tx: SqlTx, key: string): Promise<Reservation> {
  const first = await findReservation(tx, key);
  if (!first) throw new NotFoundError('reservation', key);
  await lockAccounts(tx, [first.accountId]);
  const locked = await findReservation(tx, key);
  if (!locked) throw new NotFoundError('reservation', key);
  return locked;
}

/** commit() inside a caller's transaction. */
export async function commitIn(tx: SqlTx, req: { key: string; amount?: Money; actor?: string | null; comment?: string }, now: number): Promise<LedgerEntry> {
  return commitLockedIn(tx, await lockedReservation(tx, req.key), (id) => loadAccount(tx, id), req, now);
}

/**
 * commit() for a caller that already holds the lock on the reservation's account and read the
 * reservation under it (the batched print path): `account` gives the account's row, asked for
 * only when the reservation is still held.
 */
export async function commitLockedIn(
  tx: SqlTx,
  reservation: Reservation,
  account: (id: number) => Promise<Account>,
  req: { key: string; amount?: Money; actor?: string | null; comment?: string },
  now: number,
  writer = writeNow(tx),
): Promise<LedgerEntry> {
  if (reservation.state === 'released') throw new InvalidStateError('reservation was released and cannot be committed', { key: req.key });
  const final = req.amount ?? reservation.amount;
  if (reservation.state === 'committed') {
    const entry = await findEntry(tx, req.key);
    if (!entry) throw new InvalidStateError('committed reservation has no ledger row', { key: req.key });
    if (-entry.amount !== final) throw new IdempotencyConflictError(req.key);
    return { ...entry, replayed: true };
  }
  return settleReservation(tx, reservation, await account(reservation.accountId), final, req, now, writer);
}

/** release() inside a caller's transaction. */
export async function releaseIn(tx: SqlTx, key: string, now: number): Promise<Reservation> {
  return releaseLockedIn(tx, await lockedReservation(tx, key), (id) => loadAccount(tx, id), now);
}

/** release() for a caller that holds the lock, as for commitLockedIn. */
export async function releaseLockedIn(
  tx: SqlTx,
  reservation: Reservation,
  account: (id: number) => Promise<Account>,
  now: number,
  writer = writeNow(tx),
): Promise<Reservation> {
  if (reservation.state === 'released') return { ...reservation, replayed: true };
  if (reservation.state === 'committed') throw new InvalidStateError('reservation was committed and cannot be released', { key: reservation.idempotencyKey });
  return cancelReservation(tx, reservation, await account(reservation.accountId), now, writer);
}
