/**
 * What the admin rate-card forms do: turn the form's text (amounts in the site
 * currency, the duplex discount in percent) into a card, save it through RateCardStore.save (the
 * same validation and audit row as `quotient rate-cards save`), and make this primary price the
 * next job by it at once. Each form carries a one-time key kept in the audit row, so a form
 * submitted twice (double click, back button) saves once and never undoes a later change; and
 * the edit form carries the version of the card it showed, so a save made from a page opened
 * before someone else's save is refused rather than undoing it.
 */
import { AlreadyExistsError, ValidationError, isQuotientError } from '../../common/errors';
import { parseAmount } from '../../common/money';
import type { NamedRateCard } from '../../primary/pricing/rate-card-store';
import type { Services } from '../../primary/services';

/** One price row of the form, as typed. A row with no paper size and no price is an unused row. */
export interface PriceRowText {
  paperSize: string;
  colour: string;
  sides: string;
  price: string;
  remove: boolean;
}

export interface FinishingRowText {
  option: string;
  per: string;
  price: string;
  remove: boolean;
}

export interface RateCardText {
  perJobFee: string;
  /** Percent, up to two decimals: "25" or "12.5" (stored as 2500 or 1250 basis points). */
  duplexDiscount: string;
  prices: PriceRowText[];
  finishings: FinishingRowText[];
}

/** Basis points in one percent, and so the decimals a percentage may have. */
const PERCENT_DECIMALS = 2;

/**
 * Errors name the form's rows, not the card's: `prices[2].pricePerPage` is the third price row of
 * the form as the administrator sees it, even when unused or removed rows came before it.
 */
function formField(field: string, priceRows: number[], finishingRows: number[]): string {
  const m = /^(prices|finishings)\[(\d+)\](.*)$/.exec(field);
  if (!m) return field;
  const rows = m[1] === 'prices' ? priceRows : finishingRows;
  return `${m[1]}[${rows[Number(m[2])] ?? Number(m[2])}]${m[3] ?? ''}`;
}

const unused = (text: string, price: string): boolean => text.trim() === '' && price.trim() === '';

/** The card input validateRateCard reads, from the form's text; amounts parsed exactly. */
export function cardFromText(form: RateCardText, decimals: number): { input: unknown; priceRows: number[]; finishingRows: number[] } {
  const priceRows: number[] = [];
  const finishingRows: number[] = [];
  const prices = form.prices.flatMap((row, i) => {
    if (row.remove || unused(row.paperSize, row.price)) return [];
    priceRows.push(i);
    return [{ paperSize: row.paperSize, colour: row.colour, sides: row.sides, pricePerPage: parseAmount(row.price, decimals, `prices[${i}].pricePerPage`) }];
  });
  const finishings = form.finishings.flatMap((row, i) => {
    if (row.remove || unused(row.option, row.price)) return [];
    finishingRows.push(i);
    return [{ option: row.option, per: row.per, price: parseAmount(row.price, decimals, `finishings[${i}].price`) }];
  });
  const input = {
    prices,
    perJobFee: parseAmount(form.perJobFee.trim() || '0', decimals, 'perJobFee'),
    duplexDiscountBp: parseAmount(form.duplexDiscount.trim() || '0', PERCENT_DECIMALS, 'duplexDiscountBp'),
    finishings,
  };
  return { input, priceRows, finishingRows };
}

export class AdminRateCards {
  private readonly s: Services;

  constructor(deps: { services: Services }) {
    this.s = deps.services;
  }

  /** Creates a card from the "new rate card" form; a name already taken is refused, not replaced. */
  async create(name: string, form: RateCardText, key: string, actor: string): Promise<NamedRateCard> {
    const existing = (await this.s.rateCards.list()).find((c) => c.name === name.trim());
    if (existing) {
      if (await this.replayed(existing.name, key)) return this.s.rateCards.get(existing.id);
      throw new AlreadyExistsError('rate card', name.trim());
    }
    return this.save(name, form, key, actor);
  }

  /**
   * Replaces card `id` as a whole with the edit form's rows, if it is still at `version`, the one
   * the form showed; otherwise RateCardChangedError, and nothing changes.
   */
  async update(id: number, form: RateCardText, version: number, key: string, actor: string): Promise<NamedRateCard> {
    const current = await this.s.rateCards.get(id);
    if (await this.replayed(current.name, key)) return current;
    return this.save(current.name, form, key, actor, version);
  }

  private async save(name: string, form: RateCardText, key: string, actor: string, basedOn?: number): Promise<NamedRateCard> {
    const decimals = (await this.s.settings.currency()).decimals;
    const { input, priceRows, finishingRows } = cardFromText(form, decimals);
    let saved: NamedRateCard;
    try {
      saved = await this.s.rateCards.save(name, input, actor, { formKey: key, via: 'web' }, basedOn);
    } catch (err) {
      if (isQuotientError(err) && err.code === 'VALIDATION' && typeof err.details.field === 'string') {
        throw new ValidationError(err.message, { ...err.details, field: formField(err.details.field, priceRows, finishingRows) });
      }
      throw err;
    }
    // Other primaries (and this one after a CLI save) pick the change up within the cache time.
    this.s.printers.forgetRateCard(saved.id);
    return saved;
  }

  /** Whether this form (its one-time key) already saved the card called `name`. */
  private replayed(name: string, key: string): Promise<boolean> {
    return this.s.rateCards.savedWithFormKey(name, key);
  }
}
