/**
 * Top-up cards (docs/accounts.md#top-up-cards): an administrator generates a batch of numbers or
 * imports them from CSV, each card worth the batch's value until the batch's expiry date; a user
 * redeems a card once, crediting their personal account with one `card` ledger row.
 *
 * A card is redeemed exactly once however many requests race for it: the card's conditional
 * UPDATE (`... WHERE state = 'unused'`), the ledger credit (idempotency key `card:<card id>`) and
 * the audit row are one transaction (runKnexTransaction, the ledger's postWithin), so the second
 * request either waits for the first's row lock and then changes no row (MySQL), or runs after
 * the first committed (SQLite's write lock), and is refused as used. Wrong numbers are throttled
 * per user and per client address (card-throttle.ts). Every batch change and every redemption
 * is audited once, in the transaction that makes it.
 */
import type { Knex } from 'knex';
import { AlreadyExistsError, NotFoundError, ValidationError } from '../../common/errors';
import { assertMoney, type Money } from '../../common/money';
import { recordAudit } from '../audit/audit-log';
import type { Database } from '../db/connection';
import { isUniqueViolation } from '../db/errors';
import { runKnexTransaction } from '../db/sql-runner';
import type { LedgerService } from '../ledger/ledger-service';
import type { LedgerEntry } from '../ledger/types';
import { localDate } from '../quotas/periods';
import type { UserDetail, UserService } from '../users/user-service';
import { groupCardNumber, mistyped, newCardNumber, normaliseCardNumber, plausibleCardNumber } from './card-number';
import { ADDRESS_CARD_POLICY, CardThrottle, USER_CARD_POLICY, addressThrottleKey, userThrottleKey, type CardThrottlePolicy } from './card-throttle';

/** The most cards one batch may have: a typo of `--count 100000` should not write a million rows. */
export const MAX_BATCH_SIZE = 10_000;
const NAME_MAX = 128;
const NOTES_MAX = 1000;
/** Rows per INSERT: SQLite's parameter limit and MySQL's packet size both stay far away. */
const INSERT_CHUNK = 500;

export interface NewBatch {
  name: string;
  value: Money;
  /** YYYY-MM-DD: the cards may be redeemed through that day, in the primary's time zone. */
  expiresOn: string;
  notes?: string;
  actor: string;
}

export interface CardCounts {
  total: number;
  redeemed: number;
  /** Not redeemed and not expired (a disabled batch's too: the batch says it is disabled). */
  unused: number;
  /** Not redeemed, and the batch has expired. */
  expired: number;
}

export interface CardBatch {
  id: number;
  name: string;
  value: Money;
  expiresOn: string;
  expired: boolean;
  disabled: boolean;
  notes: string;
  createdBy: string;
  createdAt: number;
  counts: CardCounts;
}

export type CardState = 'unused' | 'redeemed' | 'expired' | 'disabled';

export interface CardDetail {
  number: string;
  state: CardState;
  redeemedBy: string | null;
  redeemedAt: number | null;
  ledgerId: number | null;
}

export type RefusalReason = 'throttled' | 'mistyped' | 'unknown' | 'used' | 'expired' | 'disabled';

export type RedeemResult =
  | { redeemed: true; batch: string; amount: Money; entry: LedgerEntry }
  | { redeemed: false; reason: RefusalReason; /** Only when throttled: how long until the user may try again. */ retryAfterMs?: number };

export interface ImportProblem {
  line: number;
  reason: string;
}

export interface ImportOutcome {
  /** The numbers the file holds, in its order (normalised). */
  numbers: string[];
  problems: ImportProblem[];
  /** Whether the batch was written: only when there was no problem and it was no dry run. */
  written: boolean;
}

interface BatchRow {
  id: number;
  name: string;
  value: number | string;
  expires_on: string;
  disabled: number | boolean;
  notes: string;
  created_by: string;
  created_at: number | string;
}

export class CardService {
  private readonly db: Database;
  private readonly ledger: LedgerService;
  private readonly users: UserService;
  private readonly now: () => number;
  private readonly timezone: string;
  readonly throttle: CardThrottle;

  constructor(deps: { db: Database; ledger: LedgerService; users: UserService; now?: () => number; timezone?: string }) {
    this.db = deps.db;
    this.ledger = deps.ledger;
    this.users = deps.users;
    this.now = deps.now ?? Date.now;
    this.timezone = deps.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
    this.throttle = new CardThrottle({ db: deps.db, now: this.now });
  }

  /** Today in the primary's time zone, as YYYY-MM-DD. */
  today(): string {
    const d = localDate(this.now(), this.timezone);
    return `${d.year}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;
  }

  /** Makes a batch of `count` new numbers; returns them (ungrouped), the only time they are shown. */
  async generate(batch: NewBatch, count: number): Promise<{ batch: CardBatch; numbers: string[] }> {
    if (!Number.isSafeInteger(count) || count < 1 || count > MAX_BATCH_SIZE) {
      throw new ValidationError(`count must be a whole number from 1 to ${MAX_BATCH_SIZE}`, { field: 'count' });
    }
    const numbers = new Set<string>();
    while (numbers.size < count) numbers.add(newCardNumber());
    return { batch: await this.createBatch(batch, [...numbers], 'generated'), numbers: [...numbers] };
  }

  /**
   * Checks numbers read from a file (line numbers as the file has them) and, when none is
   * refused and it is no dry run, stores them as one batch: all of them or none.
   */
  async importNumbers(batch: NewBatch, lines: readonly { line: number; number: string }[], opts: { dryRun: boolean }): Promise<ImportOutcome> {
    this.checkBatch(batch);
    const problems: ImportProblem[] = [];
    const firstLine = new Map<string, number>();
    const numbers: string[] = [];
    for (const { line, number: typed } of lines) {
      const number = normaliseCardNumber(typed);
      if (number === '') problems.push({ line, reason: 'no card number' });
      else if (!plausibleCardNumber(number)) problems.push({ line, reason: 'not a card number: 6 to 32 digits or letters (spaces and dashes are ignored)' });
      else if (mistyped(number)) problems.push({ line, reason: 'the number fails its check digit (a typing mistake?)' });
      else if (firstLine.has(number)) problems.push({ line, reason: `the same number as line ${firstLine.get(number)}` });
      else {
        firstLine.set(number, line);
        numbers.push(number);
      }
    }
    for (let i = 0; i < numbers.length; i += INSERT_CHUNK) {
      const chunk = numbers.slice(i, i + INSERT_CHUNK);
      const taken = (await this.db
        .knex('topup_cards as c')
        .join('topup_card_batches as b', 'b.id', 'c.batch_id')
        .whereIn('c.number', chunk)
        .select('c.number', 'b.name')) as {
        number: string;
        name: string;
      }[];
      for (const t of taken) problems.push({ line: firstLine.get(t.number) ?? 0, reason: `already a card, in batch ${t.name}` });
    }
    if (lines.length === 0) problems.push({ line: 0, reason: 'the file has no card numbers' });
    else if (numbers.length > MAX_BATCH_SIZE) problems.push({ line: 0, reason: `more than ${MAX_BATCH_SIZE} cards in one batch` });
    problems.sort((a, b) => a.line - b.line);
    if (problems.length > 0 || opts.dryRun) return { numbers, problems, written: false };
    await this.createBatch(batch, numbers, 'imported');
    return { numbers, problems, written: true };
  }

  /** Every batch, newest first, with its counts. */
  async list(): Promise<CardBatch[]> {
    const rows = (await this.db.knex('topup_card_batches').orderBy('id', 'desc')) as BatchRow[];
    const counts = (await this.db.knex('topup_cards').select('batch_id', 'state').count({ n: '*' }).groupBy('batch_id', 'state')) as {
      batch_id: number;
      state: string;
      n: number | string;
    }[];
    return rows.map((r) => {
      const mine = counts.filter((c) => c.batch_id === r.id);
      const of = (state: string): number => Number(mine.find((c) => c.state === state)?.n ?? 0);
      return this.toBatch(r, of('redeemed'), of('unused'));
    });
  }

  /** One batch with each card: its number, state, and who redeemed it when. */
  async show(name: string): Promise<{ batch: CardBatch; cards: CardDetail[] }> {
    const batch = (await this.list()).find((b) => b.name === name.trim());
    if (!batch) throw new NotFoundError('card batch', name);
    const rows = (await this.db
      .knex('topup_cards as c')
      .leftJoin('users as u', 'u.id', 'c.redeemed_by')
      .where('c.batch_id', batch.id)
      .orderBy('c.id')
      .select('c.number', 'c.state', 'u.username', 'c.redeemed_at', 'c.ledger_id')) as {
      number: string;
      state: string;
      username: string | null;
      redeemed_at: number | string | null;
      ledger_id: number | string | null;
    }[];
    const open: CardState = batch.expired ? 'expired' : batch.disabled ? 'disabled' : 'unused';
    return {
      batch,
      cards: rows.map((r) => ({
        number: r.number,
        state: r.state === 'redeemed' ? 'redeemed' : open,
        redeemedBy: r.username,
        redeemedAt: r.redeemed_at === null ? null : Number(r.redeemed_at),
        ledgerId: r.ledger_id === null ? null : Number(r.ledger_id),
      })),
    };
  }

  /** Stops a batch's unused cards from being redeemed; a batch already disabled changes nothing (and writes no audit row). */
  async disable(name: string, actor: string): Promise<{ changed: boolean }> {
    return this.setDisabled(name, true, actor);
  }

  /** Lets a disabled batch's unused cards be redeemed again (until its expiry); a batch already enabled changes nothing (and writes no audit row). */
  async enable(name: string, actor: string): Promise<{ changed: boolean }> {
    return this.setDisabled(name, false, actor);
  }

  private async setDisabled(name: string, disabled: boolean, actor: string): Promise<{ changed: boolean }> {
    return runKnexTransaction(this.db, async (trx) => {
      const row = (await trx('topup_card_batches').where({ name: name.trim() }).first()) as BatchRow | undefined;
      if (!row) throw new NotFoundError('card batch', name);
      const changed = await trx('topup_card_batches').where({ id: row.id, disabled: !disabled }).update({ disabled });
      const action = disabled ? 'card_batch.disable' : 'card_batch.enable';
      if (changed > 0) await recordAudit(trx, { actor, action, targetType: 'card_batch', targetId: row.name }, this.now());
      return { changed: changed > 0 };
    });
  }

  /**
   * Redeems a card for a user: `typed` as the user typed it (spaces and dashes ignored),
   * `address` the client's address for throttling (none from a trusted caller such as the CLI).
   */
  async redeem(req: { userId: number; number: string; address?: string | undefined }): Promise<RedeemResult> {
    const keys: [string, CardThrottlePolicy][] = [[userThrottleKey(req.userId), USER_CARD_POLICY]];
    if (req.address) keys.push([addressThrottleKey(req.address), ADDRESS_CARD_POLICY]);
    const number = normaliseCardNumber(req.number);
    const guess = plausibleCardNumber(number) && !mistyped(number);
    const user = guess ? await this.users.detail(req.userId) : undefined;
    const today = this.today();
    const outcome = await this.throttle.attempt(
      keys,
      async (trx): Promise<RedeemResult> => (user ? this.redeemKnown(trx, user, number, today, req.address) : { redeemed: false, reason: 'mistyped' }),
      (r) => !r.redeemed && (r.reason === 'mistyped' || r.reason === 'unknown'),
    );
    return 'result' in outcome ? outcome.result : { redeemed: false, reason: 'throttled', retryAfterMs: outcome.lockedForMs };
  }

  /** Redeems a well-formed number inside the throttle's transaction `trx`. */
  private async redeemKnown(trx: Knex.Transaction, detail: UserDetail, number: string, today: string, address: string | undefined): Promise<RedeemResult> {
    const card = (await trx('topup_cards as c')
      .join('topup_card_batches as b', 'b.id', 'c.batch_id')
      .where('c.number', number)
      .first('c.id', 'c.state', 'b.name', 'b.value', 'b.expires_on', 'b.disabled')) as
      { id: number; state: string; name: string; value: number | string; expires_on: string; disabled: number | boolean } | undefined;
    if (!card) return { redeemed: false, reason: 'unknown' };
    if (card.state !== 'unused') return { redeemed: false, reason: 'used' };
    if (card.disabled) return { redeemed: false, reason: 'disabled' };
    if (card.expires_on < today) return { redeemed: false, reason: 'expired' };
    const now = this.now();
    // The one guard against a second redemption: only the request that changes the row goes on.
    const claimed = await trx('topup_cards').where({ id: card.id, state: 'unused' }).update({ state: 'redeemed', redeemed_by: detail.id, redeemed_at: now });
    if (claimed === 0) return { redeemed: false, reason: 'used' };
    const amount = Number(card.value);
    const masked = `…${number.slice(-5)}`;
    const entry = await this.ledger.postWithin(trx, {
      accountId: detail.account.id,
      amount,
      type: 'card',
      key: `card:${card.id}`,
      reference: `card-batch:${card.name}`.slice(0, 255),
      actor: detail.username,
      comment: `top-up card ${masked} (batch ${card.name})`,
    });
    await trx('topup_cards').where({ id: card.id }).update({ ledger_id: entry.id });
    await recordAudit(
      trx,
      {
        actor: detail.username,
        action: 'card.redeem',
        targetType: 'card_batch',
        targetId: card.name,
        details: { card: masked, cardId: card.id, amount, ledgerId: entry.id, ...(address !== undefined && { address }) },
      },
      now,
    );
    return { redeemed: true, batch: card.name, amount, entry };
  }

  private checkBatch(batch: NewBatch): void {
    const name = batch.name.trim();
    if (name === '' || name.length > NAME_MAX || /[\p{Cc}]/u.test(name)) {
      throw new ValidationError(`a batch name is 1 to ${NAME_MAX} printable characters`, { field: 'batch' });
    }
    assertMoney(batch.value, 'value', { positive: true });
    if (!validDate(batch.expiresOn)) throw new ValidationError(`expiry must be a date as YYYY-MM-DD: ${batch.expiresOn}`, { field: 'expires' });
    if (batch.expiresOn < this.today()) throw new ValidationError(`expiry ${batch.expiresOn} is in the past (today is ${this.today()})`, { field: 'expires' });
    if ((batch.notes ?? '').length > NOTES_MAX) throw new ValidationError(`notes are longer than ${NOTES_MAX} characters`, { field: 'notes' });
  }

  private async createBatch(batch: NewBatch, numbers: readonly string[], source: 'generated' | 'imported'): Promise<CardBatch> {
    this.checkBatch(batch);
    const name = batch.name.trim();
    const now = this.now();
    try {
      const id = await runKnexTransaction(this.db, async (trx: Knex.Transaction) => {
        const [batchId] = (await trx('topup_card_batches').insert({
          name,
          value: batch.value,
          expires_on: batch.expiresOn,
          disabled: false,
          notes: batch.notes ?? '',
          created_by: batch.actor,
          created_at: now,
        })) as number[];
        for (let i = 0; i < numbers.length; i += INSERT_CHUNK) {
          await trx('topup_cards').insert(numbers.slice(i, i + INSERT_CHUNK).map((number) => ({ number, batch_id: batchId, state: 'unused' })));
        }
        await recordAudit(
          trx,
          {
            actor: batch.actor,
            action: 'card_batch.create',
            targetType: 'card_batch',
            targetId: name,
            details: { source, count: numbers.length, value: batch.value, expiresOn: batch.expiresOn },
          },
          now,
        );
        return Number(batchId);
      });
      return this.toBatch(
        { id, name, value: batch.value, expires_on: batch.expiresOn, disabled: false, notes: batch.notes ?? '', created_by: batch.actor, created_at: now },
        0,
        numbers.length,
      );
    } catch (err) {
      if (isUniqueViolation(err, 'name')) throw new AlreadyExistsError('card batch', name);
      if (isUniqueViolation(err, 'number')) throw new AlreadyExistsError('card number', 'one of the numbers');
      throw err;
    }
  }

  private toBatch(r: BatchRow, redeemed: number, unredeemed: number): CardBatch {
    const expired = r.expires_on < this.today();
    return {
      id: r.id,
      name: r.name,
      value: Number(r.value),
      expiresOn: r.expires_on,
      expired,
      disabled: Boolean(r.disabled),
      notes: r.notes,
      createdBy: r.created_by,
      createdAt: Number(r.created_at),
      counts: { total: redeemed + unredeemed, redeemed, unused: expired ? 0 : unredeemed, expired: expired ? unredeemed : 0 },
    };
  }
}

/** A real calendar date written YYYY-MM-DD. */
function validDate(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

export { groupCardNumber };
