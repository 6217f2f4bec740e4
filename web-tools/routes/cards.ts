/**
 * Top-up cards in the web tools: the signed-in user's redemption form (/cards) and the admin
 * pages for card batches (/admin/cards: every batch with its counts; one batch with its cards and
 * who redeemed them; disable and enable). The rules (once only, expiry, throttling per user and per address)
 * are the cards service's (primary/cards/); this edge reads the form, passes the client's address
 * and shows the answer: a refusal says why, from the catalogue (`cards.refused.<reason>`).
 */
import { Router, type Response } from 'express';
import { NotFoundError, ValidationError } from '../../common/errors';
import { groupCardNumber, type CardBatch } from '../../primary/cards/card-service';
import { currentUser, money, page, requireAdmin, requireUser, type WebDeps } from '../middleware/context';
import type { PageFamily } from './menu';

export const CARD_PAGES: PageFamily<WebDeps> = {
  // /admin/cards is claimed by the admin family's /admin already.
  paths: ['/cards'],
  mainMenu: [{ id: 'cards', href: '/cards', label: 'nav.cards' }],
  adminMenu: [{ id: 'cards', href: '/admin/cards', label: 'admin.cards' }],
  routes: (deps) => Router().use('/cards', userCardRoutes(deps)).use('/admin/cards', adminCardRoutes(deps)),
};

/** HTTP status of each refusal: a number that is wrong (400), a card that cannot be used (409), too many wrong numbers (429). */
const REFUSAL_STATUS = { mistyped: 400, unknown: 400, used: 409, expired: 409, disabled: 409, throttled: 429 } as const;

function userCardRoutes(deps: WebDeps): Router {
  const r = Router();
  r.use(requireUser(deps));

  const show = async (res: Response, data: Record<string, unknown>, status = 200): Promise<void> => {
    const account = await deps.services.users.personalAccount(currentUser(res).user.id);
    page(deps, res, 'cards', { title: 'cards.title', nav: 'cards', balance: money(res, account.balance), ...data }, status);
  };

  r.get('/', async (req, res) => {
    const amount = typeof req.query.amount === 'string' && /^\d{1,16}$/.test(req.query.amount) ? Number(req.query.amount) : undefined;
    await show(res, amount === undefined ? {} : { redeemed: money(res, amount) });
  });

  r.post('/', async (req, res) => {
    const typed = (req.body as Record<string, unknown>).number;
    const number = typeof typed === 'string' ? typed.slice(0, 100) : '';
    const result = await deps.services.cards.redeem({ userId: currentUser(res).user.id, number, address: req.ip });
    if (result.redeemed) {
      res.redirect(303, `/cards?amount=${result.amount}`);
      return;
    }
    if (result.retryAfterMs !== undefined) res.setHeader('Retry-After', String(Math.ceil(result.retryAfterMs / 1000)));
    await show(
      res,
      { refused: `cards.refused.${result.reason}`, minutes: Math.ceil((result.retryAfterMs ?? 0) / 60_000), typed: number },
      REFUSAL_STATUS[result.reason],
    );
  });
  return r;
}

function adminCardRoutes(deps: WebDeps): Router {
  const r = Router();
  r.use(requireUser(deps), requireAdmin(deps));
  const batchView = (res: Response, b: CardBatch): Record<string, unknown> => ({
    ...b,
    value: money(res, b.value),
    stateKey: b.disabled ? 'cards.batchState.disabled' : b.expired ? 'cards.batchState.expired' : 'cards.batchState.active',
    href: `/admin/cards/${encodeURIComponent(b.name)}`,
  });

  r.get('/', async (_req, res) => {
    const batches = await deps.services.cards.list();
    page(deps, res, 'admin-cards', { title: 'admin.cards', admin: 'cards', batches: batches.map((b) => batchView(res, b)) });
  });

  r.get('/:name', async (req, res) => {
    const { batch, cards } = await deps.services.cards.show(req.params.name);
    page(deps, res, 'admin-card-batch', {
      title: 'admin.cards',
      admin: 'cards',
      disabled: req.query.disabled === '1',
      enabled: req.query.enabled === '1',
      batch: batchView(res, batch),
      cards: cards.map((c) => ({ ...c, cardNumber: groupCardNumber(c.number), stateKey: `cards.state.${c.state}` })),
    });
  });

  for (const verb of ['disable', 'enable'] as const) {
    r.post(`/:name/${verb}`, async (req, res) => {
      const name = req.params.name;
      if (name.length > 128) throw new ValidationError('not a batch name', { field: 'batch' });
      const batches = await deps.services.cards.list();
      if (!batches.some((b) => b.name === name)) throw new NotFoundError('card batch', name);
      await deps.services.cards[verb](name, currentUser(res).user.username);
      res.redirect(303, `/admin/cards/${encodeURIComponent(name)}?${verb}d=1`);
    });
  }
  return r;
}
