/**
 * The money core: credit, debit, adjust, set balance, transfer, and reserve → commit | release.
 * Every balance change is one ledger row with the balance after it and a unique idempotency key,
 * written in the same transaction that changes the account, with the account row locked; so
 * concurrent debits never take a restricted account below its credit limit, and repeating a key
 * returns the first result without changing anything.
 */
import type { Knex } from 'knex';
import type { Database } from '../db/connection';
import { isUniqueViolation } from '../db/errors';
import { inTransaction, lockRows } from '../db/transaction';
import {
  IdempotencyConflictError,
  InsufficientFundsError,
  InvalidStateError,
  NotFoundError,
  ValidationError,
} from '../../common/errors';
import { assertMoney, MAX_AMOUNT, type Money } from '../../common/money';
import type { SettingsService } from '../settings/settings-service';
import { ENTRY_TYPES, type Account, type EntryMeta, type EntryType, type LedgerEntry, type Reservation } from './types';

interface AccountRow {
  id: number;
  type: 'personal' | 'shared';
  user_id: number | null;
  name: string;
  balance: number | string;
  reserved: number | string;
  restricted: number | boolean;
  credit_limit: number | string | null;
  cost_multiplier_bp: number;
  enabled: number | boolean;
}

interface LedgerRow {
  id: number | string;
  account_id: number;
  amount: number | string;
  balance_after: number | string;
  type: EntryType;
  reference: string | null;
  actor: string | null;
  comment: string;
  idempotency_key: string;
  created_at: number | string;
}

interface ReservationRow {
  id: number | string;
  account_id: number;
  amount: number | string;
  state: Reservation['state'];
  type: EntryType;
  reference: string | null;
  actor: string | null;
  comment: string;
  idempotency_key: string;
  ledger_id: number | string | null;
  created_at: number | string;
  settled_at: number | string | null;
}

export function toAccount(row: AccountRow): Account {
  return {
    id: row.id,
    type: row.type,
    userId: row.user_id,
    name: row.name,
    balance: Number(row.balance),
    reserved: Number(row.reserved),
    restricted: Boolean(row.restricted),
    creditLimit: row.credit_limit === null ? null : Number(row.credit_limit),
    costMultiplierBp: row.cost_multiplier_bp,
    enabled: Boolean(row.enabled),
  };
}

function toEntry(row: LedgerRow, replayed: boolean): LedgerEntry {
  return {
    id: Number(row.id),
    accountId: row.account_id,
    amount: Number(row.amount),
    balanceAfter: Number(row.balance_after),
    type: row.type,
    reference: row.reference,
    actor: row.actor,
    comment: row.comment,
    idempotencyKey: row.idempotency_key,
    createdAt: Number(row.created_at),
    replayed,
  };
}

function toReservation(row: ReservationRow, replayed: boolean): Reservation {
  return {
    id: Number(row.id),
    accountId: row.account_id,
    amount: Number(row.amount),
    state: row.state,
    type: row.type,
    reference: row.reference,
    idempotencyKey: row.idempotency_key,
    ledgerId: row.ledger_id === null ? null : Number(row.ledger_id),
    createdAt: Number(row.created_at),
    settledAt: row.settled_at === null ? null : Number(row.settled_at),
    replayed,
  };
}

const KEY_MAX = 191;

function checkMeta(meta: EntryMeta): void {
  if (typeof meta.key !== 'string' || meta.key.length === 0 || meta.key.length > KEY_MAX) {
    throw new ValidationError(`idempotency key must be 1 to ${KEY_MAX} characters`, { field: 'key' });
  }
  if (meta.comment !== undefined && meta.comment.length > 1000) {
    throw new ValidationError('comment is longer than 1000 characters', { field: 'comment' });
  }
  if (meta.reference && meta.reference.length > 255) {
    throw new ValidationError('reference is longer than 255 characters', { field: 'reference' });
  }
  if (meta.actor && meta.actor.length > 128) throw new ValidationError('actor is longer than 128 characters', { field: 'actor' });
}

function checkType(type: EntryType): void {
  if (!(ENTRY_TYPES as readonly string[]).includes(type)) throw new ValidationError(`unknown entry type ${String(type)}`, { field: 'type' });
}

export interface ChangeRequest extends EntryMeta {
  accountId: number;
  amount: Money;
  type: EntryType;
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
    const row = (await trx('accounts').where({ id: accountId }).first()) as AccountRow | undefined;
    if (!row) throw new NotFoundError('account', accountId);
    return toAccount(row);
  }

  /** The overdraft that applies to an account: its own, or the site default. */
  async creditLimitOf(account: Account): Promise<Money> {
    return account.creditLimit ?? (await this.settings.get('accounts.defaultCreditLimit'));
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
    assertMoney(req.balance, 'balance');
    checkMeta(req);
    const type = req.type ?? 'adjustment';
    checkType(type);
    return this.idempotent(
      req.key,
      async (trx) => {
        await lockRows(trx, this.db.dialect, 'accounts', [req.accountId]);
        const existing = await this.findEntry(trx, req.key);
        if (existing) return this.replayed(existing, req.accountId, existing.amount, type, req.balance);
        const account = await this.getAccount(req.accountId, trx);
        return this.post(trx, account, req.balance - account.balance, type, req);
      },
      (entry) => this.replayed(entry, req.accountId, entry.amount, type, req.balance),
    );
  }

  /** Moves a positive amount between two accounts: two ledger rows, keys `<key>:from` and `<key>:to`. */
  async transfer(
    req: EntryMeta & { fromAccountId: number; toAccountId: number; amount: Money; enforceLimit?: boolean },
  ): Promise<{ from: LedgerEntry; to: LedgerEntry }> {
    assertMoney(req.amount, 'amount', { positive: true });
    checkMeta(req);
    if (req.fromAccountId === req.toAccountId) throw new ValidationError('cannot transfer to the same account', { field: 'toAccountId' });
    const fromKey = `${req.key}:from`;
    const toKey = `${req.key}:to`;
    if (toKey.length > KEY_MAX) throw new ValidationError(`idempotency key must be at most ${KEY_MAX - 5} characters for a transfer`);
    const replay = (from: LedgerEntry, to: LedgerEntry): { from: LedgerEntry; to: LedgerEntry } => ({
      from: this.replayed(from, req.fromAccountId, -req.amount, 'transfer'),
      to: this.replayed(to, req.toAccountId, req.amount, 'transfer'),
    });
    const findBoth = async (trx: Knex | Knex.Transaction): Promise<[LedgerEntry, LedgerEntry] | undefined> => {
      const from = await this.findEntry(trx, fromKey);
      const to = await this.findEntry(trx, toKey);
      return from && to ? [from, to] : undefined;
    };
    try {
      return await inTransaction(this.db, async (trx) => {
        await lockRows(trx, this.db.dialect, 'accounts', [req.fromAccountId, req.toAccountId]);
        const both = await findBoth(trx);
        if (both) return replay(...both);
        const from = await this.getAccount(req.fromAccountId, trx);
        const to = await this.getAccount(req.toAccountId, trx);
        if (req.enforceLimit !== false) await this.ensureSpendable(from, req.amount);
        return {
          from: await this.post(trx, from, -req.amount, 'transfer', { ...req, key: fromKey }),
          to: await this.post(trx, to, req.amount, 'transfer', { ...req, key: toKey }),
        };
      });
    } catch (err) {
      if (!isUniqueViolation(err, 'idempotency_key')) throw err;
      const both = await findBoth(this.db.knex);
      if (!both) throw err;
      return replay(...both);
    }
  }

  /** Holds `amount` against the account so concurrent jobs cannot overspend it. */
  async reserve(
    req: EntryMeta & { accountId: number; amount: Money; type?: EntryType; enforceLimit?: boolean },
  ): Promise<Reservation> {
    assertMoney(req.amount, 'amount', { nonNegative: true });
    checkMeta(req);
    const type = req.type ?? 'print';
    checkType(type);
    const same = (r: Reservation): Reservation => {
      if (r.accountId !== req.accountId || r.amount !== req.amount || r.type !== type) throw new IdempotencyConflictError(req.key);
      return { ...r, replayed: true };
    };
    try {
      return await inTransaction(this.db, async (trx) => {
        await lockRows(trx, this.db.dialect, 'accounts', [req.accountId]);
        const existing = await this.findReservation(trx, req.key);
        if (existing) return same(existing);
        const account = await this.getAccount(req.accountId, trx);
        if (req.enforceLimit !== false) await this.ensureSpendable(account, req.amount);
        const now = this.now();
        await trx('accounts').where({ id: account.id }).update({ reserved: account.reserved + req.amount, updated_at: now });
        const row = {
          account_id: account.id,
          amount: req.amount,
          state: 'held',
          type,
          reference: req.reference ?? null,
          actor: req.actor ?? null,
          comment: req.comment ?? '',
          idempotency_key: req.key,
          ledger_id: null,
          created_at: now,
          settled_at: null,
        };
        const [id] = await trx('reservations').insert(row);
        return toReservation({ ...row, id: Number(id) } as ReservationRow, false);
      });
    } catch (err) {
      if (!isUniqueViolation(err, 'idempotency_key')) throw err;
      const existing = await this.findReservation(this.db.knex, req.key);
      if (!existing) throw err;
      return same(existing);
    }
  }

  /**
   * Turns a held reservation into a charge of `amount` (default: the amount held), as one ledger
   * row whose idempotency key is the reservation's. The final amount may exceed the amount held:
   * the pages are already printed, so the charge is what they cost even if that passes the limit.
   */
  async commit(req: { key: string; amount?: Money; actor?: string | null; comment?: string }): Promise<LedgerEntry> {
    if (req.amount !== undefined) assertMoney(req.amount, 'amount', { nonNegative: true });
    return inTransaction(this.db, async (trx) => {
      const reservation = await this.lockReservation(trx, req.key);
      if (reservation.state === 'released') {
        throw new InvalidStateError('reservation was released and cannot be committed', { key: req.key });
      }
      const final = req.amount ?? reservation.amount;
      if (reservation.state === 'committed') {
        const entry = await this.findEntry(trx, req.key);
        if (!entry) throw new InvalidStateError('committed reservation has no ledger row', { key: req.key });
        if (-entry.amount !== final) throw new IdempotencyConflictError(req.key);
        return { ...entry, replayed: true };
      }
      const account = await this.getAccount(reservation.accountId, trx);
      const now = this.now();
      await trx('accounts').where({ id: account.id }).update({ reserved: account.reserved - reservation.amount });
      const entry = await this.post(trx, { ...account, reserved: account.reserved - reservation.amount }, -final, reservation.type, {
        key: req.key,
        reference: reservation.reference,
        actor: req.actor ?? null,
        comment: req.comment ?? '',
      });
      await trx('reservations').where({ id: reservation.id }).update({ state: 'committed', ledger_id: entry.id, settled_at: now });
      return entry;
    });
  }

  /** Gives a held reservation back; releasing twice is harmless, releasing a committed one is an error. */
  async release(req: { key: string }): Promise<Reservation> {
    return inTransaction(this.db, async (trx) => {
      const reservation = await this.lockReservation(trx, req.key);
      if (reservation.state === 'released') return { ...reservation, replayed: true };
      if (reservation.state === 'committed') {
        throw new InvalidStateError('reservation was committed and cannot be released', { key: req.key });
      }
      const account = await this.getAccount(reservation.accountId, trx);
      const now = this.now();
      await trx('accounts').where({ id: account.id }).update({ reserved: account.reserved - reservation.amount, updated_at: now });
      await trx('reservations').where({ id: reservation.id }).update({ state: 'released', settled_at: now });
      return { ...reservation, state: 'released', settledAt: now };
    });
  }

  async getReservation(key: string): Promise<Reservation> {
    const found = await this.findReservation(this.db.knex, key);
    if (!found) throw new NotFoundError('reservation', key);
    return found;
  }

  /** An account's ledger, newest first, paged by id. */
  async history(accountId: number, opts: { limit?: number; beforeId?: number } = {}): Promise<LedgerEntry[]> {
    const limit = Math.min(Math.max(opts.limit ?? 50, 1), 1000);
    const q = this.db.knex('ledger').where({ account_id: accountId }).orderBy('id', 'desc').limit(limit);
    if (opts.beforeId !== undefined) q.andWhere('id', '<', opts.beforeId);
    return ((await q) as LedgerRow[]).map((r) => toEntry(r, false));
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
      .select('a.id', 'a.name', 'a.balance', 'a.reserved', 'l.total as ledger_sum', 'l.rows as ledger_rows', 'r.total as held_sum', 'last.balance_after as last_after')) as {
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

  /**
   * Posts a change inside the caller's transaction (user creation's initial credit, a quota
   * run's chunk): locks the account, replays a repeated key, never refuses for want of credit.
   */
  async postWithin(trx: Knex.Transaction, req: ChangeRequest): Promise<LedgerEntry> {
    assertMoney(req.amount, 'amount');
    checkMeta(req);
    checkType(req.type);
    await lockRows(trx, this.db.dialect, 'accounts', [req.accountId]);
    const existing = await this.findEntry(trx, req.key);
    if (existing) return this.replayed(existing, req.accountId, req.amount, req.type);
    return this.post(trx, await this.getAccount(req.accountId, trx), req.amount, req.type, req);
  }

  // ---- internals ----

  private async change(req: ChangeRequest, enforceLimit: boolean): Promise<LedgerEntry> {
    checkMeta(req);
    checkType(req.type);
    return this.idempotent(
      req.key,
      async (trx) => {
        await lockRows(trx, this.db.dialect, 'accounts', [req.accountId]);
        const existing = await this.findEntry(trx, req.key);
        if (existing) return this.replayed(existing, req.accountId, req.amount, req.type);
        const account = await this.getAccount(req.accountId, trx);
        if (enforceLimit) await this.ensureSpendable(account, -req.amount);
        return this.post(trx, account, req.amount, req.type, req);
      },
      (entry) => this.replayed(entry, req.accountId, req.amount, req.type),
    );
  }

  /** Runs `work` in a transaction; a unique-key race on the idempotency key becomes a replay. */
  private async idempotent(key: string, work: (trx: Knex.Transaction) => Promise<LedgerEntry>, onRace: (e: LedgerEntry) => LedgerEntry): Promise<LedgerEntry> {
    try {
      return await inTransaction(this.db, work);
    } catch (err) {
      if (!isUniqueViolation(err, 'idempotency_key')) throw err;
      const existing = await this.findEntry(this.db.knex, key);
      if (!existing) throw err;
      return onRace(existing);
    }
  }

  private replayed(entry: LedgerEntry, accountId: number, amount: Money, type: EntryType, balanceAfter?: Money): LedgerEntry {
    const same =
      entry.accountId === accountId &&
      entry.type === type &&
      (balanceAfter === undefined ? entry.amount === amount : entry.balanceAfter === balanceAfter);
    if (!same) throw new IdempotencyConflictError(entry.idempotencyKey);
    return { ...entry, replayed: true };
  }

  private async ensureSpendable(account: Account, amount: Money): Promise<void> {
    if (!account.restricted || amount <= 0) return;
    const creditLimit = await this.creditLimitOf(account);
    const available = account.balance - account.reserved;
    if (available - amount < -creditLimit) {
      throw new InsufficientFundsError({ accountId: account.id, available, amount, creditLimit });
    }
  }

  /** Writes one ledger row and the new balance. The caller holds the account's lock. */
  private async post(trx: Knex.Transaction, account: Account, amount: Money, type: EntryType, meta: EntryMeta): Promise<LedgerEntry> {
    const balanceAfter = account.balance + amount;
    if (Math.abs(balanceAfter) > MAX_AMOUNT) throw new ValidationError('the balance would be out of range', { field: 'amount' });
    const now = this.now();
    await trx('accounts').where({ id: account.id }).update({ balance: balanceAfter, updated_at: now });
    const row = {
      account_id: account.id,
      amount,
      balance_after: balanceAfter,
      type,
      reference: meta.reference ?? null,
      actor: meta.actor ?? null,
      comment: meta.comment ?? '',
      idempotency_key: meta.key,
      created_at: now,
    };
    const [id] = await trx('ledger').insert(row);
    return toEntry({ ...row, id: Number(id) }, false);
  }

  private async findEntry(trx: Knex | Knex.Transaction, key: string): Promise<LedgerEntry | undefined> {
    const row = (await trx('ledger').where({ idempotency_key: key }).first()) as LedgerRow | undefined;
    return row ? toEntry(row, false) : undefined;
  }

  private async findReservation(trx: Knex | Knex.Transaction, key: string): Promise<Reservation | undefined> {
    const row = (await trx('reservations').where({ idempotency_key: key }).first()) as ReservationRow | undefined;
    return row ? toReservation(row, false) : undefined;
  }

  /** Finds a reservation, locks its account, and reads it again under the lock. */
  private async lockReservation(trx: Knex.Transaction, key: string): Promise<Reservation> {
    const first = await this.findReservation(trx, key);
    if (!first) throw new NotFoundError('reservation', key);
    await lockRows(trx, this.db.dialect, 'accounts', [first.accountId]);
    const locked = await this.findReservation(trx, key);
    if (!locked) throw new NotFoundError('reservation', key);
    return locked;
  }
}
