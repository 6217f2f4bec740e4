/**
 * The admin rate-card pages (mounted under /admin, administrators only): a card with its edit
 * form, and the "new rate card" form linked from the printers page. Plain POST forms with the
 * CSRF token (checked before any route) and a one-time form key; a fixed number of empty rows
 * adds rows without JavaScript. A refused form is shown again as typed, with the reason from the
 * catalogue by error code and field; nothing is saved.
 */
import { Router, type Request, type Response } from 'express';
import { ValidationError, isQuotientError } from '../../common/errors';
import { DEFAULT_PAPER_SIZE, RATE_CARD_LIMITS, type RateCard } from '../../primary/pricing/rate-card';
import { RateCardChangedError } from '../../primary/pricing/rate-card-store';
import type { AdminPages } from '../pages/admin-pages';
import { AdminRateCards, type FinishingRowText, type PriceRowText, type RateCardText } from '../pages/admin-rate-cards';
import { currentUser, money, page, webContext, type WebDeps } from '../middleware/context';
import { formKey, newFormKey } from './form-key';
import { checkbox } from './form-fields';

/** Empty rows under the card's own, for adding rows without JavaScript. */
const EMPTY_PRICE_ROWS = 4;
const EMPTY_FINISHING_ROWS = 2;

function id(value: unknown): number {
  if (typeof value !== 'string' || !/^\d{1,12}$/.test(value)) throw new ValidationError('not an id', { field: 'id' });
  return Number(value);
}

/** The card version the edit form was made from; a form without one is refused (reload the page). */
function version(body: Record<string, unknown>): number {
  const v = body.version;
  if (typeof v !== 'string' || !/^\d{1,9}$/.test(v.trim()))
    throw new ValidationError('the form is missing the card version; reload the page', { field: 'version' });
  return Number(v.trim());
}

const field = (body: Record<string, unknown>, name: string, max = 64): string => {
  const v = body[name];
  return typeof v === 'string' ? v.trim().slice(0, max) : '';
};

/** How many rows the form says it has, within what a card may hold plus the empty rows. */
function rowCount(body: Record<string, unknown>, name: string, max: number): number {
  const n = Number(field(body, name, 8));
  return Number.isSafeInteger(n) && n > 0 ? Math.min(n, max) : 0;
}

/** The form's rows as typed (field names `p<i>.size`, `f<i>.option`, ...). */
function formText(body: Record<string, unknown>): RateCardText {
  const prices: PriceRowText[] = [];
  for (let i = 0; i < rowCount(body, 'priceRows', RATE_CARD_LIMITS.priceRows + EMPTY_PRICE_ROWS); i++) {
    prices.push({
      paperSize: field(body, `p${i}.size`),
      colour: field(body, `p${i}.colour`, 8),
      sides: field(body, `p${i}.sides`, 8),
      price: field(body, `p${i}.price`, 32),
      remove: checkbox(body, `p${i}.remove`),
    });
  }
  const finishings: FinishingRowText[] = [];
  for (let i = 0; i < rowCount(body, 'finishingRows', RATE_CARD_LIMITS.finishingRows + EMPTY_FINISHING_ROWS); i++) {
    finishings.push({
      option: field(body, `f${i}.option`),
      per: field(body, `f${i}.per`, 8),
      price: field(body, `f${i}.price`, 32),
      remove: checkbox(body, `f${i}.remove`),
    });
  }
  return { perJobFee: field(body, 'perJobFee', 32), duplexDiscount: field(body, 'duplexDiscount', 16), prices, finishings };
}

/** Minor units as the form's fields show them: 10 -> "0.10" (no symbol, no thousands separators). */
function plain(amount: number, decimals: number): string {
  const digits = String(amount).padStart(decimals + 1, '0');
  return decimals === 0 ? digits : `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
}

/** A stored card as the form's text. */
function textOf(card: RateCard, decimals: number): RateCardText {
  return {
    perJobFee: plain(card.perJobFee, decimals),
    duplexDiscount: plain(card.duplexDiscountBp, 2).replace(/\.?0+$/, ''),
    prices: card.prices.map((p) => ({ paperSize: p.paperSize, colour: p.colour, sides: p.sides, price: plain(p.pricePerPage, decimals), remove: false })),
    finishings: card.finishings.map((f) => ({ option: f.option, per: f.per, price: plain(f.price, decimals), remove: false })),
  };
}

/**
 * What the form partial shows: the rows with their choices marked. A stored card gets empty rows
 * to add with; a refused form is shown exactly as typed, so the row numbers in its error match.
 */
function formView(form: RateCardText, addEmptyRows: boolean): Record<string, unknown> {
  const prices = [
    ...form.prices,
    ...Array.from({ length: addEmptyRows ? EMPTY_PRICE_ROWS : 0 }, () => ({ paperSize: '', colour: 'grey', sides: 'simplex', price: '', remove: false })),
  ];
  const finishings = [
    ...form.finishings,
    ...Array.from({ length: addEmptyRows ? EMPTY_FINISHING_ROWS : 0 }, () => ({ option: '', per: 'job', price: '', remove: false })),
  ];
  return {
    perJobFee: form.perJobFee,
    duplexDiscount: form.duplexDiscount,
    priceRows: prices.length,
    finishingRows: finishings.length,
    prices: prices.map((p, i) => ({
      ...p,
      i,
      row: i + 1,
      grey: p.colour === 'grey',
      colour: p.colour === 'colour',
      simplex: p.sides === 'simplex',
      duplex: p.sides === 'duplex',
    })),
    finishings: finishings.map((f, i) => ({ ...f, i, row: i + 1, perJob: f.per === 'job', perSheet: f.per === 'sheet' })),
  };
}

/** Why a form was refused: a catalogue key, the row it names (0: none), and the status (400 unless said). */
interface Refusal {
  message: string;
  row: number;
  status?: number;
}

/**
 * The catalogue key (and row number, counted from 1 as the form shows them) that says why a
 * form was refused, from the error's code and field. Undefined for errors the ordinary error
 * page explains (not found, internal).
 */
export function rateCardRefusal(err: unknown): Refusal | undefined {
  if (!isQuotientError(err)) return undefined;
  if (err.code === 'ALREADY_EXISTS') return { message: 'rateCard.error.exists', row: 0 };
  if (err instanceof RateCardChangedError) return { message: 'rateCard.error.changed', row: 0, status: 409 };
  if (err.code !== 'VALIDATION') return undefined;
  const f = typeof err.details.field === 'string' ? err.details.field : '';
  const m = /^(prices|finishings)\[(\d+)\](?:\.(\w+))?$/.exec(f);
  if (m) {
    const row = Number(m[2]) + 1;
    const what = m[3] ?? 'row';
    const key =
      m[1] === 'prices'
        ? { row: 'priceRepeated', paperSize: 'paperSize', pricePerPage: 'price', colour: 'priceChoice', sides: 'priceChoice' }[what]
        : { row: 'finishingRepeated', option: 'option', price: 'finishingPrice', per: 'finishingChoice' }[what];
    return { message: `rateCard.error.${key ?? 'invalid'}`, row };
  }
  const simple: Record<string, string> = {
    name: 'name',
    perJobFee: 'perJobFee',
    duplexDiscountBp: 'duplexDiscount',
    prices: 'prices',
    finishings: 'finishings',
    formKey: 'formKey',
    version: 'formKey',
  };
  return { message: `rateCard.error.${simple[f] ?? 'invalid'}`, row: 0 };
}

export function adminRateCardRoutes(deps: WebDeps & { admin: AdminPages }): Router {
  const r = Router();
  const cards = new AdminRateCards({ services: deps.services });
  const actor = (res: Response): string => currentUser(res).user.username;
  const decimals = (res: Response): number => webContext(res).currency.decimals;

  async function showCard(res: Response, cardId: number, form: RateCardText | undefined, error?: Refusal, saved = false): Promise<void> {
    const c = await deps.admin.rateCard(cardId);
    page(
      deps,
      res,
      'admin-rate-card',
      {
        title: 'admin.rateCard',
        admin: 'printers',
        id: c.id,
        name: c.name,
        saved,
        error,
        printers: c.printers,
        perJobFee: money(res, c.card.perJobFee),
        duplexDiscountBp: c.card.duplexDiscountBp,
        prices: c.card.prices.map((p) => ({
          paperSize: p.paperSize,
          anySize: p.paperSize === DEFAULT_PAPER_SIZE,
          colourKey: `colour.${p.colour}`,
          sidesKey: `sides.${p.sides}`,
          price: money(res, p.pricePerPage),
        })),
        finishings: c.card.finishings.map((f) => ({ option: f.option, perKey: `finishing.${f.per}`, price: money(res, f.price) })),
        // The version of the card shown above: a save from this form is refused if the card changes meanwhile.
        form: {
          ...formView(form ?? textOf(c.card, decimals(res)), form === undefined),
          action: `/admin/rate-cards/${c.id}`,
          formKey: newFormKey(),
          version: c.version,
        },
      },
      error ? (error.status ?? 400) : 200,
    );
  }

  function showNew(res: Response, name: string, form: RateCardText, error?: Refusal): void {
    page(
      deps,
      res,
      'admin-rate-card-new',
      {
        title: 'admin.newRateCard',
        admin: 'printers',
        name,
        error,
        form: { ...formView(form, error === undefined), action: '/admin/rate-cards', formKey: newFormKey(), isNew: true },
      },
      error ? 400 : 200,
    );
  }

  r.get('/rate-cards/new', (_req, res) => {
    // The two default rows every card needs, with no price: the administrator must choose one.
    const defaults: PriceRowText[] = (['grey', 'colour'] as const).map((colour) => ({
      paperSize: DEFAULT_PAPER_SIZE,
      colour,
      sides: 'simplex',
      price: '',
      remove: false,
    }));
    showNew(res, '', { perJobFee: '0', duplexDiscount: '0', prices: defaults, finishings: [] });
  });

  r.post('/rate-cards', async (req: Request, res) => {
    const body = req.body as Record<string, unknown>;
    const name = field(body, 'name', 200);
    const form = formText(body);
    try {
      const card = await cards.create(name, form, formKey(body), actor(res));
      res.redirect(303, `/admin/rate-cards/${card.id}?saved=1`);
    } catch (err) {
      const refusal = rateCardRefusal(err);
      if (!refusal) throw err;
      showNew(res, name, form, refusal);
    }
  });

  r.get('/rate-cards/:id', async (req, res) => {
    await showCard(res, id(req.params.id), undefined, undefined, req.query.saved === '1');
  });

  r.post('/rate-cards/:id', async (req, res) => {
    const cardId = id(req.params.id);
    const body = req.body as Record<string, unknown>;
    const form = formText(body);
    try {
      await cards.update(cardId, form, version(body), formKey(body), actor(res));
      res.redirect(303, `/admin/rate-cards/${cardId}?saved=1`);
    } catch (err) {
      const refusal = rateCardRefusal(err);
      if (!refusal) throw err;
      await showCard(res, cardId, form, refusal);
    }
  });

  return r;
}
