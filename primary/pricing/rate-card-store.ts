/**
 * Rate cards in the database: saved by name (replacing the card's rows as a whole) and loaded
 * back through validateRateCard, so a card read from the database is as trustworthy as one typed in.
 */
import type { Knex } from 'knex';
import type { Database } from '../db/connection';
import { inTransaction } from '../db/transaction';
import { recordAudit } from '../audit/audit-log';
import { NotFoundError, ValidationError } from '../../common/errors';
import { validateRateCard, type RateCard } from './rate-card';

export interface NamedRateCard {
  id: number;
  name: string;
  card: RateCard;
}

interface CardRow {
  id: number;
  name: string;
  per_job_fee: number | string;
  duplex_discount_bp: number;
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
   * audit row (the web forms record their one-time key there).
   */
  async save(name: string, input: unknown, actor = 'system', auditDetails: Record<string, unknown> = {}): Promise<NamedRateCard> {
    const trimmed = name.trim();
    if (trimmed.length === 0 || trimmed.length > 128) throw new ValidationError('rate card name must be 1 to 128 characters', { field: 'name' });
    const card = validateRateCard(input);
    const id = await inTransaction(this.db, async (trx) => {
      const now = this.now();
      const existing = (await trx('rate_cards').where({ name: trimmed }).first('id')) as { id: number } | undefined;
      let cardId: number;
      if (existing) {
        cardId = existing.id;
        await trx('rate_cards').where({ id: cardId }).update({ per_job_fee: card.perJobFee, duplex_discount_bp: card.duplexDiscountBp, updated_at: now });
        await trx('rate_card_prices').where({ rate_card_id: cardId }).delete();
        await trx('rate_card_finishings').where({ rate_card_id: cardId }).delete();
      } else {
        const [newId] = await trx('rate_cards').insert({ name: trimmed, per_job_fee: card.perJobFee, duplex_discount_bp: card.duplexDiscountBp, created_at: now, updated_at: now });
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
      await recordAudit(trx, { actor, action: existing ? 'rate_card.update' : 'rate_card.create', targetType: 'rate_card', targetId: trimmed, details: auditDetails }, now);
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
    const finishings = (await k('rate_card_finishings').where({ rate_card_id: row.id }).orderBy('id')) as { option: string; per: string; price: number | string }[];
    const card = validateRateCard({
      prices: prices.map((p) => ({ paperSize: p.paper_size, colour: p.colour, sides: p.sides, pricePerPage: Number(p.price_per_page) })),
      perJobFee: Number(row.per_job_fee),
      duplexDiscountBp: row.duplex_discount_bp,
      finishings: finishings.map((f) => ({ option: f.option, per: f.per, price: Number(f.price) })),
    });
    return { id: row.id, name: row.name, card };
  }
}
