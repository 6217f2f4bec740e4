/**
 * The user pages. Every page shows the signed-in user's own data: the user id comes from the
 * session, never from the URL or a form.
 */
import { Router, type Response } from 'express';
import { parseAmount } from '../../common/money';
import { TRANSFER_COMMENT_MAX, TransferRefusedError, type TransferRefusal, type UserTransfers } from '../../primary/ledger/transfers';
import { showCo2, showTrees } from '../pages/environment';
import type { UserPages } from '../pages/user-pages';
import { currentUser, money, page, requireUser, webContext, type WebDeps } from '../middleware/context';
import { translate } from '../i18n';
import { formKey, newFormKey } from './form-key';
import type { PageFamily } from './menu';
import { WIDGET_COLOURS, parseWidgetOptions } from './widget-options';

const TYPE_KEYS = new Set(['print', 'net', 'quota', 'adjustment', 'refund', 'transfer', 'card', 'initial']);

function positiveInt(value: unknown): number | undefined {
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value)) return undefined;
  const n = Number(value);
  return n > 0 ? n : undefined;
}

const REFUSAL_STATUS: Record<TransferRefusal, number> = {
  disabled: 403,
  amount: 400,
  minimum: 400,
  maximum: 400,
  self: 400,
  comment: 400,
  unknownUser: 404,
  insufficient: 402,
};

type UserDeps = WebDeps & { pages: UserPages; transfers: UserTransfers };

/** The paths of the user pages and their links in the header, in order (`id` is the page's `nav`). */
export const USER_PAGES: PageFamily<UserDeps> = {
  paths: ['/', '/jobs', '/transactions', '/internet', '/transfers', '/rates', '/widget'],
  mainMenu: [
    { id: 'summary', href: '/', label: 'nav.summary' },
    { id: 'jobs', href: '/jobs', label: 'nav.jobs' },
    { id: 'transactions', href: '/transactions', label: 'nav.transactions' },
    { id: 'internet', href: '/internet', label: 'nav.internet' },
    { id: 'rates', href: '/rates', label: 'nav.rates' },
    { id: 'transfers', href: '/transfers', label: 'nav.transfers', onlyIf: 'transfers' },
  ],
  routes: (deps) => userRoutes(deps),
};

export function userRoutes(deps: UserDeps): Router {
  const r = Router();
  // Guarded per route (not r.use) so paths that are not user pages fall through to the JSON 404.
  const signedIn = requireUser(deps);

  r.get('/', signedIn, async (_req, res) => {
    const s = await deps.pages.summary(currentUser(res).user.id);
    page(deps, res, 'summary', {
      title: 'summary.title',
      nav: 'summary',
      s,
      balance: money(res, s.balance),
      available: money(res, s.available),
      creditLimit: money(res, -s.creditLimit),
      periodSpent: money(res, s.periodSpent),
      periodNetSpent: money(res, s.periodNetSpent),
      chartMin: money(res, s.chart.min),
      chartMax: money(res, s.chart.max),
      co2: showCo2(s.impact.co2Grams),
      trees: showTrees(s.impact.trees),
    });
  });

  r.get('/jobs', signedIn, async (req, res) => {
    const jobs = await deps.pages.jobs(currentUser(res).user.id);
    page(deps, res, 'jobs', {
      title: 'jobs.title',
      nav: 'jobs',
      done: req.query.done === 'refund',
      jobs: jobs.map((j) => ({ ...j, cost: money(res, j.cost), statusKey: `status.${j.status}`, refundKey: `refund.${j.refund}` })),
    });
  });

  r.post('/jobs/refund', signedIn, async (req, res) => {
    const body = req.body as Record<string, unknown>;
    const jobId = positiveInt(body.jobId);
    if (jobId === undefined) return page(deps, res, 'error', { title: 'error.title', message: 'error.404' }, 404);
    await deps.pages.requestRefund(currentUser(res).user.id, jobId, typeof body.reason === 'string' ? body.reason : '');
    res.redirect(303, '/jobs?done=refund');
  });

  r.get('/transactions', signedIn, async (req, res) => {
    const beforeId = positiveInt(req.query.before);
    const { rows, olderBeforeId } = await deps.pages.transactions(currentUser(res).user.id, beforeId === undefined ? {} : { beforeId });
    page(deps, res, 'transactions', {
      title: 'tx.title',
      nav: 'transactions',
      rows: rows.map((e) => ({
        createdAt: e.createdAt,
        typeKey: TYPE_KEYS.has(e.type) ? `type.${e.type}` : '',
        amount: money(res, e.amount),
        balanceAfter: money(res, e.balanceAfter),
        comment: e.comment,
        negative: e.amount < 0,
      })),
      olderBeforeId,
      paged: beforeId !== undefined,
    });
  });

  r.get('/internet', signedIn, async (req, res) => {
    const beforeId = positiveInt(req.query.before);
    const { rows, olderBeforeId } = await deps.pages.internet(currentUser(res).user.id, beforeId === undefined ? {} : { beforeId });
    page(deps, res, 'internet', {
      title: 'internet.title',
      nav: 'internet',
      rows: rows.map((u) => ({ ...u, cost: money(res, u.cost) })),
      olderBeforeId,
      paged: beforeId !== undefined,
    });
  });

  /** The transfer form, with the balance and the site's limits; `error` re-shows what was typed. */
  const transferPage = async (
    res: Response,
    opts: { sent?: boolean; error?: TransferRefusal; to?: string; amount?: string; comment?: string } = {},
  ): Promise<void> => {
    const rules = await deps.transfers.rules();
    if (!rules.enabled && opts.error === undefined) return page(deps, res, 'error', { title: 'error.title', message: 'error.404' }, 404);
    const account = await deps.services.users.personalAccount(currentUser(res).user.id);
    page(
      deps,
      res,
      'transfers',
      {
        title: 'transfers.title',
        nav: 'transfers',
        enabled: rules.enabled,
        balance: money(res, account.balance),
        minimum: money(res, rules.minimum),
        maximum: money(res, rules.maximum),
        formKey: newFormKey(),
        commentMax: TRANSFER_COMMENT_MAX,
        sent: opts.sent === true,
        error:
          opts.error === undefined
            ? null
            : { key: `transfers.error.${opts.error}`, minimum: money(res, rules.minimum), maximum: money(res, rules.maximum), to: opts.to ?? '' },
        form: { to: opts.to ?? '', amount: opts.amount ?? '', comment: opts.comment ?? '' },
      },
      opts.error === undefined ? 200 : REFUSAL_STATUS[opts.error],
    );
  };

  r.get('/transfers', signedIn, async (req, res) => {
    await transferPage(res, { sent: req.query.sent === '1' });
  });

  r.post('/transfers', signedIn, async (req, res) => {
    const body = req.body as Record<string, unknown>;
    const field = (name: string, max: number): string => (typeof body[name] === 'string' ? body[name].trim().slice(0, max) : '');
    const typed = { to: field('to', 128), amount: field('amount', 32), comment: field('comment', TRANSFER_COMMENT_MAX + 1) };
    const key = formKey(body);
    try {
      let amount: number;
      try {
        amount = parseAmount(typed.amount, webContext(res).currency.decimals);
      } catch {
        throw new TransferRefusedError('amount');
      }
      await deps.transfers.send(currentUser(res).user.id, { toUsername: typed.to, amount, comment: typed.comment, formKey: key });
    } catch (err) {
      if (err instanceof TransferRefusedError) return transferPage(res, { error: err.reason, ...typed });
      throw err;
    }
    res.redirect(303, '/transfers?sent=1');
  });

  r.get('/rates', signedIn, async (_req, res) => {
    const rates = await deps.pages.rates();
    page(deps, res, 'rates', {
      title: 'rates.title',
      nav: 'rates',
      rates: rates.map((p) => ({
        ...p,
        perJobFee: money(res, p.perJobFee),
        prices: p.prices.map((x) => ({ ...x, pricePerPage: money(res, x.pricePerPage) })),
      })),
    });
  });

  r.get('/widget', signedIn, async (req, res) => {
    const options = parseWidgetOptions(req.query as Record<string, unknown>);
    const s = await deps.pages.summary(currentUser(res).user.id);
    page(deps, res, 'widget', { bare: true, title: 'widget.title', options, balance: money(res, s.balance), restricted: s.restricted });
  });

  r.get('/widget/help', signedIn, (_req, res) => {
    // The example's title in the page's language, so the address shown is one to copy as it is.
    const example = `/widget?title=${encodeURIComponent(translate(webContext(res).lang, 'widget.exampleTitle'))}&position=top-right&bg=navy&fg=white`;
    page(deps, res, 'widget-help', { title: 'nav.widget', nav: 'widget', colours: WIDGET_COLOURS.join(', '), example });
  });

  return r;
}
