/**
 * Rate cards in the database: saved by name (replacing the card's rows as a whole) and loaded
 * back through validateRateCard, so a card read from the database is as trustworthy as one typed in.
 * Every save raises the card's version; a save that names the version it was based on is refused
 * when the card has changed since (an edit form opened before someone else's save).
 */
import type { Knex } from 'knex';
import type { Database } from '../db/connection';
import { runKnexTransaction } from '../db/sql-runner';
import { recordAudit } from '../audit/audit-log';
import { InvalidStateError, NotFoundError, ValidationError } from '../../common/errors';
import { validateRateCard, type RateCard } from './rate-card';

export interface NamedRateCard {
  id: number;
  name: string;
  /** Raised by every save: 1 for a new card. */
  version: number;
  card: RateCard;
}

interface CardRow {
  id: number;
  name: string;
  version: number | string;
  per_job_fee: number | string;
  duplex_discount_bp: number;
}

/** Refused: the card was saved by someone else since `expected` was read. */
export class RateCardChangedError extends InvalidStateError {
  constructor(name: string, expected: number, current: number) {
    super(`rate card ${name} was changed since version ${expected} (it is at version ${current})`, { field: 'version', expected, current });
  }
}

export class RateCardStore {
  private readonly db: Database;
  private readonly now: () => number;

  constructor(deps: { db: Database; now?: () => number }) {
    this.db = deps.db;
    this.now = deps.now ?? Date.now;
  }

  /**
   * Creates or replaces the card called `name`; returns it as stored. `auditDetails` go into the
   * audit row (the web forms record their one-time key there). With `basedOn`, the version the
   * caller's change started from, a card saved meanwhile is refused (RateCardChangedError) and
   * nothing changes; without it the save replaces whatever is there (the CLI's file import).
   */
  async save(name: string, input: unknown, actor = 'system', auditDetails: Record<string, unknown> = {}, basedOn?: number): Promise<NamedRateCard> {
    const trimmed = name.trim();
    if (trimmed.length === 0 || trimmed.length > 128) throw new ValidationError('rate card name must be 1 to 128 characters', { field: 'name' });
    const card = validateRateCard(input);
    const id = await runKnexTransaction(this.db, async (trx) => {
      const now = this.now();
      const existing = (await trx('rate_cards').where({ name: trimmed }).first('id', 'version')) as { id: number; version: number | string } | undefined;
      let cardId: number;
      if (existing) {
        cardId = existing.id;
        // The version test is in the UPDATE itself, so two saves from the same version cannot both pass it.
        const where = basedOn === undefined ? { id: cardId } : { id: cardId, version: basedOn };
        const changed = await trx('rate_cards')
          .where(where)
          .update({ per_job_fee: card.perJobFee, duplex_discount_bp: card.duplexDiscountBp, updated_at: now, version: trx.raw('version + 1') });
        if (changed === 0) {
          const stored = (await trx('rate_cards').where({ id: cardId }).first('version')) as { version: number | string };
          throw new RateCardChangedError(trimmed, basedOn ?? 0, Number(stored.version));
        }
        await trx('rate_card_prices').where({ rate_card_id: cardId }).delete();
        await trx('rate_card_finishings').where({ rate_card_id: cardId }).delete();
      } else {
        const [newId] = await trx('rate_cards').insert({
          name: trimmed,
          per_job_fee: card.perJobFee,
          duplex_discount_bp: card.duplexDiscountBp,
          created_at: now,
          updated_at: now,
        });
        cardId = Number(newId);
      }
      if (card.prices.length > 0) {
        await trx('rate_card_prices').insert(
          card.prices.map((p) => ({ rate_card_id: cardId, paper_size: p.paperSize, colour: p.colour, sides: p.sides, price_per_page: p.pricePerPage })),
        );
      }
      if (card.finishings.length > 0) {
        await trx('rate_card_finishings').insert(card.finishings.map((f) => ({ rate_card_id: cardId, option: f.option, per: f.per, price: f.price })));
      }
      await recordAudit(
        trx,
        { actor, action: existing ? 'rate_card.update' : 'rate_card.create', targetType: 'rate_card', targetId: trimmed, details: auditDetails },
        now,
      );
      return cardId;
    });
    return this.get(id);
  }

  async get(id: number): Promise<NamedRateCard> {
    return this.load(this.db.knex, { id });
  }

  async getByName(name: string): Promise<NamedRateCard> {
    return this.load(this.db.knex, { name: name.trim() });
  }

  async list(): Promise<{ id: number; name: string }[]> {
    return (await this.db.knex('rate_cards').orderBy('name').select('id', 'name')) as { id: number; name: string }[];
  }

  private async load(k: Knex, where: { id: number } | { name: string }): Promise<NamedRateCard> {
    const row = (await k('rate_cards').where(where).first()) as CardRow | undefined;
    if (!row) throw new NotFoundError('rate card', 'id' in where ? where.id : where.name);
    const prices = (await k('rate_card_prices').where({ rate_card_id: row.id }).orderBy('id')) as {
      paper_size: string;
      colour: string;
      sides: string;
      price_per_page: number | string;
    }[];
    const finishings = (await k('rate_card_finishings').where({ rate_card_id: row.id }).orderBy('id')) as {
      option: string;
      per: string;
      price: number | string;
    }[];
    const card = validateRateCard({
      prices: prices.map((p) => ({ paperSize: p.paper_size, colour: p.colour, sides: p.sides, pricePerPage: Number(p.price_per_page) })),
      perJobFee: Number(row.per_job_fee),
      duplexDiscountBp: row.duplex_discount_bp,
      finishings: finishings.map((f) => ({ option: f.option, per: f.per, price: Number(f.price) })),
    });
    return { id: row.id, name: row.name, version: Number(row.version), card };
  }

  /** Whether a save of the card called `name` carried this one-time form key (in its audit row's details). */
  async savedWithFormKey(name: string, formKey: string): Promise<boolean> {
    const rows = (await this.db
      .knex('audit_log')
      .where({ target_type: 'rate_card', target_id: name })
      .whereIn('action', ['rate_card.create', 'rate_card.update'])
      .select('details')) as { details: string }[];
    return rows.some((r) => (JSON.parse(r.details) as { formKey?: unknown }).formKey === formKey);
  }
}
