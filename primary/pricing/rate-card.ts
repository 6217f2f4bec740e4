/**
 * Rate cards: the cost model a printer charges by, and the one function that turns
 * untrusted input (admin API, database rows, config) into a validated, normalised, frozen card.
 */
import { assertMoney, type Money } from '../../common/money';
import { integerIn, invalid, oneOf, onlyFields, record } from './input-checks';
import { checkedPaperSize } from './paper-size';

export type Colour = 'grey' | 'colour';
export type Sides = 'simplex' | 'duplex';
export type FinishingPer = 'job' | 'sheet';

/** The paper size of a card's default rows, used for every size without a row of its own. */
export const DEFAULT_PAPER_SIZE = '*';

/** Basis points in one whole: 10000 bp = 100 % (a multiplier of 10000 is ×1). */
export const BP_PER_UNIT = 10_000;

/** Limits matching the database columns and keeping a card small enough to scan per job. */
export const RATE_CARD_LIMITS = {
  optionLength: 32,
  priceRows: 1000,
  finishingRows: 100,
} as const;

export interface PriceRow {
  /** Canonical paper size (see paper-size.ts), or '*' for the default row. */
  readonly paperSize: string;
  readonly colour: Colour;
  readonly sides: Sides;
  readonly pricePerPage: Money;
}

export interface FinishingRow {
  /** Lower-case option name, e.g. 'staple', 'punch', 'fold'. */
  readonly option: string;
  /** 'job': charged once per job; 'sheet': charged for every sheet of every copy. */
  readonly per: FinishingPer;
  readonly price: Money;
}

declare const validated: unique symbol;

/**
 * A validated rate card. Only validateRateCard() makes one (the brand), so pricing code can rely
 * on canonical paper sizes, both default simplex rows, no duplicate rows, and in-range money.
 */
export interface RateCard {
  readonly prices: readonly PriceRow[];
  readonly perJobFee: Money;
  /** Discount in basis points (0..10000) on a simplex row's price when it prices a duplex page. */
  readonly duplexDiscountBp: number;
  readonly finishings: readonly FinishingRow[];
  readonly [validated]: true;
}

/** What validateRateCard() accepts, for typed callers; it still checks everything at run time. */
export interface RateCardInput {
  prices: readonly { paperSize: string; colour: Colour; sides: Sides; pricePerPage: Money }[];
  /** Default 0. */
  perJobFee?: Money;
  /** Default 0. */
  duplexDiscountBp?: number;
  /** Default none. */
  finishings?: readonly { option: string; per: FinishingPer; price: Money }[];
}

const CARD_FIELDS = ['prices', 'perJobFee', 'duplexDiscountBp', 'finishings'];
const PRICE_FIELDS = ['paperSize', 'colour', 'sides', 'pricePerPage'];
const FINISHING_FIELDS = ['option', 'per', 'price'];
const OPTION_NAME = /^[a-z0-9][a-z0-9._-]*$/;

/**
 * Checks and normalises a rate card. Throws a ValidationError whose message and `details.field`
 * name the offending field (e.g. `prices[2].pricePerPage`); unknown fields are errors too, so a
 * misspelt `duplexDiscount` is not silently ignored.
 */
export function validateRateCard(input: unknown): RateCard {
  const card = record(input, 'rate card');
  onlyFields(card, CARD_FIELDS, 'rate card');

  const perJobFee = card.perJobFee === undefined ? 0 : assertMoney(card.perJobFee, 'perJobFee', { nonNegative: true });
  const duplexDiscountBp = card.duplexDiscountBp === undefined ? 0 : integerIn(card.duplexDiscountBp, 'duplexDiscountBp', 0, BP_PER_UNIT);
  const prices = validatePrices(card.prices);
  const finishings = validateFinishings(card.finishings);

  const result: Omit<RateCard, typeof validated> = Object.freeze({
    prices: Object.freeze(prices),
    perJobFee,
    duplexDiscountBp,
    finishings: Object.freeze(finishings),
  });
  return result as RateCard;
}

function validatePrices(value: unknown): PriceRow[] {
  if (!Array.isArray(value)) throw invalid('prices', 'prices must be a list of price rows');
  if (value.length > RATE_CARD_LIMITS.priceRows) {
    throw invalid('prices', `prices has more than ${RATE_CARD_LIMITS.priceRows} rows`);
  }
  const rows: PriceRow[] = [];
  const seen = new Map<string, number>();
  value.forEach((raw: unknown, index) => {
    const at = `prices[${index}]`;
    const row = record(raw, at);
    onlyFields(row, PRICE_FIELDS, at);
    const paperSize = checkedPaperSize(row.paperSize, `${at}.paperSize`);
    const colour = oneOf(row.colour, `${at}.colour`, ['grey', 'colour'] as const);
    const sides = oneOf(row.sides, `${at}.sides`, ['simplex', 'duplex'] as const);
    const pricePerPage = assertMoney(row.pricePerPage, `${at}.pricePerPage`, { nonNegative: true });

    const key = `${paperSize}\u0000${colour}\u0000${sides}`;
    const first = seen.get(key);
    if (first !== undefined) {
      throw invalid(at, `${at} repeats prices[${first}] (${paperSize}, ${colour}, ${sides}); each paper size, colour and sides may have one price`);
    }
    seen.set(key, index);
    rows.push(Object.freeze({ paperSize, colour, sides, pricePerPage }));
  });

  for (const colour of ['grey', 'colour'] as const) {
    if (!seen.has(`${DEFAULT_PAPER_SIZE}\u0000${colour}\u0000simplex`)) {
      throw invalid('prices', `prices needs a default ${colour} row: { paperSize: '*', colour: '${colour}', sides: 'simplex' }`);
    }
  }
  return rows;
}

function validateFinishings(value: unknown): FinishingRow[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalid('finishings', 'finishings must be a list of finishing rows');
  if (value.length > RATE_CARD_LIMITS.finishingRows) {
    throw invalid('finishings', `finishings has more than ${RATE_CARD_LIMITS.finishingRows} rows`);
  }
  const rows: FinishingRow[] = [];
  const seen = new Map<string, number>();
  value.forEach((raw: unknown, index) => {
    const at = `finishings[${index}]`;
    const row = record(raw, at);
    onlyFields(row, FINISHING_FIELDS, at);
    const option = finishingOption(row.option, `${at}.option`);
    const per = oneOf(row.per, `${at}.per`, ['job', 'sheet'] as const);
    const price = assertMoney(row.price, `${at}.price`, { nonNegative: true });
    const first = seen.get(option);
    if (first !== undefined) throw invalid(at, `${at} repeats the option "${option}" of finishings[${first}]`);
    seen.set(option, index);
    rows.push(Object.freeze({ option, per, price }));
  });
  return rows;
}

/**
 * The canonical form of a finishing option name (trimmed, lower-case), used both for the card's
 * rows and for the options a job asks for.
 */
export function finishingOption(value: unknown, field: string): string {
  if (typeof value !== 'string') throw invalid(field, `${field} must be a finishing option name such as 'staple'`, value);
  const option = value.trim().toLowerCase();
  if (option.length > RATE_CARD_LIMITS.optionLength || !OPTION_NAME.test(option)) {
    throw invalid(field, `${field} must be 1 to ${RATE_CARD_LIMITS.optionLength} letters, digits, '.', '_' or '-'`, value);
  }
  return option;
}
