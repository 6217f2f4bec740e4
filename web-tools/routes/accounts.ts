/**
 * Shared accounts in the web tools: the signed-in user's accounts (/accounts: every account they
 * may charge with its balance and their recent charges to it, and the form that changes the
 * active account) and the admin pages (/admin/accounts: search, create; one account's settings,
 * name, archive, access list, balance changes, an allocation account's allocation, and ledger). Every change is one call to a primary
 * service (SharedAccounts, Allocations, BalanceChanges), which checks it and writes the audit row with the
 * signed-in user as the actor; a refused admin form is shown again with the field's message.
 */
import { Router, type Request, type Response } from 'express';
import { ValidationError, isQuotientError } from '../../common/errors';
import { parseAmount, type Money } from '../../common/money';
import type { AccountAccess, AccountSettings, Grantee, SharedAccount } from '../../primary/accounts/shared-accounts';
import { dayText, parseDay, parseMultiplier } from '../../primary/accounts/account-names';
import { ALLOCATION_LIMITS, type AllocationSchedule } from '../../primary/accounts/allocations';
import { localTime, parseScheduleText } from '../../primary/quotas/schedule-input';
import { AccountPages, type AllocationDetail, type UserAccountView } from '../pages/account-pages';
import { currentUser, money, page, requireAdmin, requireUser, webContext, type WebDeps } from '../middleware/context';
import { errorMessage } from './error-message';
import { checkbox, choice } from './form-fields';
import { formKey, newFormKey } from './form-key';
import type { PageFamily } from './menu';

export const ACCOUNT_PAGES: PageFamily<WebDeps> = {
  // /admin/accounts is claimed by the admin family's /admin already.
  paths: ['/accounts'],
  mainMenu: [{ id: 'accounts', href: '/accounts', label: 'nav.accounts' }],
  adminMenu: [{ id: 'accounts', href: '/admin/accounts', label: 'admin.accounts' }],
  routes: (deps) => {
    const pages = new AccountPages({ services: deps.services });
    return Router().use('/accounts', userAccountRoutes(deps, pages)).use('/admin/accounts', adminAccountRoutes(deps, pages));
  },
};

const TYPE_KEYS = new Set(['print', 'net', 'quota', 'adjustment', 'refund', 'transfer', 'card', 'initial']);

const text = (body: Record<string, unknown>, field: string, max = 1000): string => {
  const v = body[field];
  return typeof v === 'string' ? v.trim().slice(0, max) : '';
};

function id(value: unknown): number {
  if (typeof value !== 'string' || !/^\d{1,12}$/.test(value)) throw new ValidationError('not an id', { field: 'id' });
  return Number(value);
}

/** A date field (`2027-06-30` as `<input type="date">` sends it, a day in the primary's time zone) or blank for none; an expiry covers its whole day. */
function dateField(body: Record<string, unknown>, field: 'starts' | 'expires', timezone: string): number | null {
  const typed = text(body, field, 32);
  return typed === '' ? null : parseDay(typed, field, field === 'expires', timezone);
}

/** A stored start or expiry as the date field shows it (the expiry's own day, not the next midnight). */
function dateText(at: number | null, field: 'starts' | 'expires', timezone: string): string {
  return at === null ? '' : dayText(at, field === 'expires', timezone);
}

/** `1.5` -> 15000 basis points (at most 4 decimals); blank is 1. */
function multiplierField(body: Record<string, unknown>): number {
  return parseMultiplier(text(body, 'multiplier', 32) || '1');
}

/** Minor units as a form field shows them: 1050 -> "10.50". */
function plain(amount: Money, decimals: number): string {
  return (amount / 10 ** decimals).toFixed(decimals);
}

/**
 * The settings form as AccountSettings. On an edit (`current`), only what differs from the
 * account is sent, so an untouched field (an expiry already past, say) is not checked again.
 */
function settingsForm(body: Record<string, unknown>, decimals: number, timezone: string, current?: SharedAccount): AccountSettings {
  const typed: AccountSettings = {
    code: text(body, 'code', 100).toUpperCase() || null,
    restricted: checkbox(body, 'restricted'),
    creditLimit: parseAmount(text(body, 'creditLimit', 32) || '0', decimals, 'creditLimit'),
    multiplierBp: multiplierField(body),
    startsAt: dateField(body, 'starts', timezone),
    expiresAt: dateField(body, 'expires', timezone),
    notes: text(body, 'notes', 4000),
  };
  const pin = text(body, 'pin', 100);
  if (!current) return pin === '' ? typed : { ...typed, pin };
  const out: AccountSettings = {};
  if (typed.code !== current.code) out.code = typed.code ?? null;
  if (typed.restricted !== current.restricted) out.restricted = typed.restricted ?? false;
  if (typed.creditLimit !== current.creditLimit) out.creditLimit = typed.creditLimit ?? 0;
  if (typed.multiplierBp !== current.multiplierBp) out.multiplierBp = typed.multiplierBp ?? 10000;
  if (typed.startsAt !== current.startsAt) out.startsAt = typed.startsAt ?? null;
  if (typed.expiresAt !== current.expiresAt) out.expiresAt = typed.expiresAt ?? null;
  if (typed.notes !== current.notes) out.notes = typed.notes ?? '';
  const enabled = checkbox(body, 'enabled');
  if (enabled !== current.enabled) out.enabled = enabled;
  if (checkbox(body, 'clearPin')) out.pin = null;
  else if (pin !== '') out.pin = pin;
  return out;
}

/** Why a form was refused, as the page says it: the catalogue key and the field's name (a key too). */
function refusal(err: unknown): { message: string; field: string } | undefined {
  if (!isQuotientError(err)) return undefined;
  if (err.code === 'ALREADY_EXISTS') {
    const code = err.details.what === 'account code';
    return { message: code ? 'accounts.error.codeTaken' : 'accounts.error.nameTaken', field: code ? 'field.code' : 'field.name' };
  }
  if (err.code === 'NOT_FOUND' && err.details.what === 'parent account') return { message: 'accounts.error.noParent', field: 'field.name' };
  return err.code === 'VALIDATION' ? errorMessage(err) : undefined;
}

/** Who may charge an account, in a few words for the list. */
function accessSummary(access: AccountAccess): { everyone: boolean; users: number; groups: number; names: string } {
  return { everyone: access.everyone, users: access.users.length, groups: access.groups.length, names: [...access.users, ...access.groups].join(', ') };
}

function grantee(body: Record<string, unknown>): Grantee {
  const kind = choice(body, 'kind', ['user', 'group', 'everyone']);
  if (kind === 'everyone') return { everyone: true };
  const who = text(body, 'who', 128);
  if (who === '') throw new ValidationError(`name the ${kind}`, { field: kind });
  return kind === 'user' ? { user: who } : { group: who };
}

/**
 * The create form's allocation fields as the schedule Allocations.create takes (what
 * `quotient accounts add --model allocation` reads from its flags): the allocation each period,
 * daily, weekly on a weekday or monthly on a day (1 unless given), starting at a local time.
 */
function allocationSchedule(body: Record<string, unknown>, decimals: number): AllocationSchedule {
  const typed = parseScheduleText(
    {
      name: 'allocation',
      allUsers: true,
      period: choice(body, 'period', ['daily', 'weekly', 'monthly']),
      weekday: text(body, 'weekday', 16),
      day: text(body, 'day', 4) || '1',
      at: text(body, 'at', 8),
      // The allocation is read below, so that a refusal names the form's field.
      amount: '0',
      mode: 'reset',
    },
    decimals,
  );
  return {
    period: typed.period,
    weekday: typed.weekday ?? null,
    dayOfMonth: typed.dayOfMonth ?? null,
    atTime: typed.atTime ?? '00:00',
    cron: null,
    amount: parseAmount(text(body, 'allocation', 32), decimals, 'allocation'),
  };
}

/** An allocation account's schedule, limit and users' balances as its admin page shows them; times in the primary's zone. */
function allocationView(res: Response, d: AllocationDetail, zone: string): Record<string, unknown> {
  const q = d.account.schedule;
  return {
    perPeriod: money(res, q.amount),
    limitKey: `accounts.allocation.limit.${d.account.limit}`,
    whenKey: `quota.when.${q.period}`,
    weekdayKey: `weekday.${q.weekday ?? 0}`,
    dayOfMonth: q.dayOfMonth,
    atTime: q.atTime,
    cron: q.cron,
    schedule: q.name,
    enabled: q.enabled,
    nextRun: d.nextRun === null ? '' : `${localTime(d.nextRun, zone)} ${zone}`,
    users: d.users.map((u) => ({ username: u.username, balance: money(res, u.balance), reserved: money(res, u.reserved), overrun: money(res, u.overrun) })),
    // The edit form's fields as stored; a cron schedule's period is left to the CLI (no period field).
    form: {
      allocation: plain(q.amount, webContext(res).currency.decimals),
      period: q.period === 'cron' ? '' : q.period,
      weekday: String(q.weekday ?? 1),
      day: q.dayOfMonth === null ? '' : String(q.dayOfMonth),
      at: q.atTime,
      limit: d.account.limit,
    },
  };
}

function userAccountRoutes(deps: WebDeps, pages: AccountPages): Router {
  const r = Router();
  r.use(requireUser(deps));

  r.get('/', async (req, res) => {
    const { user } = currentUser(res);
    const { accounts, chosen } = await pages.userAccounts(user.id, user.username);
    const view = (a: UserAccountView): Record<string, unknown> => ({
      ...a,
      typeKey: `accounts.type.${a.type}`,
      // The form's value: what SharedAccounts.setActive takes.
      choice: a.type === 'personal' ? 'personal' : a.name,
      balance: money(res, a.balance),
      available: money(res, a.available),
      creditLimit: money(res, -a.creditLimit),
      allocation: a.allocation && {
        left: money(res, a.allocation.left),
        perPeriod: money(res, a.allocation.allocation),
        limitKey: `accounts.allocation.limit.${a.allocation.limit}`,
      },
      charges: a.charges.map((j) => ({ ...j, cost: money(res, j.cost), statusKey: `status.${j.status}` })),
    });
    page(deps, res, 'accounts', { title: 'accounts.title', nav: 'accounts', accounts: accounts.map(view), chosen, changed: req.query.changed === '1' });
  });

  r.post('/active', async (req, res) => {
    const { user } = currentUser(res);
    await deps.services.accounts.setActive(user.username, text(req.body as Record<string, unknown>, 'account', 300), user.username);
    res.redirect(303, '/accounts?changed=1');
  });
  return r;
}

function adminAccountRoutes(deps: WebDeps, pages: AccountPages): Router {
  const r = Router();
  const s = deps.services;
  r.use(requireUser(deps), requireAdmin(deps));
  const actor = (res: Response): string => currentUser(res).user.username;
  const decimals = (res: Response): number => webContext(res).currency.decimals;

  const showList = async (req: Request, res: Response, refused?: { error: { message: string; field: string }; typed: Record<string, unknown> }) => {
    const q = typeof req.query.q === 'string' ? req.query.q.slice(0, 100) : '';
    const archived = req.query.archived === '1';
    const rows = await pages.sharedAccounts(q, archived);
    page(
      deps,
      res,
      'admin-accounts',
      {
        title: 'admin.accounts',
        admin: 'accounts',
        q,
        archived,
        accounts: rows.map((a) => ({
          ...a,
          href: `/admin/accounts/${a.id}`,
          balance: money(res, a.balance),
          creditLimit: money(res, -a.creditLimit),
          stateKey: a.archived ? 'accounts.state.archived' : a.enabled ? 'accounts.state.enabled' : 'accounts.state.disabled',
          summary: accessSummary(a.access),
        })),
        form: refused?.typed ?? { multiplier: '1', creditLimit: plain(0, decimals(res)) },
        error: refused?.error,
      },
      refused ? 400 : 200,
    );
  };

  const showAccount = async (req: Request, res: Response, refused?: { message: string; field: string }) => {
    const before = typeof req.query.before === 'string' && /^\d{1,15}$/.test(req.query.before) ? Number(req.query.before) : undefined;
    const d = await pages.sharedAccountDetail(id(req.params.id), before);
    const a = d.account;
    page(
      deps,
      res,
      'admin-account',
      {
        title: 'admin.accounts',
        admin: 'accounts',
        a: {
          ...a,
          path: `/admin/accounts/${a.id}`,
          balance: money(res, a.balance),
          reserved: money(res, a.reserved),
          stateKey: a.archived ? 'accounts.state.archived' : a.enabled ? 'accounts.state.enabled' : 'accounts.state.disabled',
        },
        // The settings form's fields as stored.
        form: {
          code: a.code ?? '',
          hasPin: a.pin !== null,
          enabled: a.enabled,
          restricted: a.restricted,
          creditLimit: plain(a.creditLimit, decimals(res)),
          multiplier: String(a.multiplierBp / 10000),
          starts: dateText(a.startsAt, 'starts', s.accounts.timezone),
          expires: dateText(a.expiresAt, 'expires', s.accounts.timezone),
          notes: a.notes,
        },
        access: d.access,
        allocation: d.allocation && allocationView(res, d.allocation, s.quotas.timezone),
        formKey: newFormKey(),
        rows: d.rows.map((e) => ({
          ...e,
          typeKey: TYPE_KEYS.has(e.type) ? `type.${e.type}` : '',
          amount: money(res, e.amount),
          balanceAfter: money(res, e.balanceAfter),
          negative: e.amount < 0,
        })),
        olderBeforeId: d.olderBeforeId,
        paged: before !== undefined,
        saved: req.query.saved === '1',
        error: refused,
      },
      refused ? 400 : 200,
    );
  };

  /** Runs a change of one account and goes back to its page, or shows the page again with why it was refused. */
  const change =
    (act: (req: Request, res: Response, account: SharedAccount, body: Record<string, unknown>) => Promise<void>) => async (req: Request, res: Response) => {
      const account = await pages.sharedAccount(id(req.params.id));
      try {
        await act(req, res, account, req.body as Record<string, unknown>);
      } catch (err) {
        const why = refusal(err);
        if (!why) throw err;
        return showAccount(req, res, why);
      }
      res.redirect(303, `/admin/accounts/${account.id}?saved=1`);
    };

  r.get('/', async (req, res) => showList(req, res));

  r.post('/', async (req, res) => {
    const body = req.body as Record<string, unknown>;
    let created: SharedAccount;
    try {
      const settings = { name: text(body, 'name', 1000), ...settingsForm(body, decimals(res), s.accounts.timezone) };
      // A form without the model field (an older page) creates a shared balance account.
      const model = body.model === undefined ? 'shared' : choice(body, 'model', ['shared', 'allocation']);
      created =
        model === 'allocation'
          ? await s.allocations.create(
              { ...settings, limit: choice(body, 'limit', ALLOCATION_LIMITS), schedule: allocationSchedule(body, decimals(res)) },
              actor(res),
            )
          : await s.accounts.create(settings, actor(res));
    } catch (err) {
      const why = refusal(err);
      if (!why) throw err;
      const fields = [
        'name',
        'code',
        'creditLimit',
        'multiplier',
        'starts',
        'expires',
        'notes',
        'model',
        'allocation',
        'period',
        'weekday',
        'day',
        'at',
        'limit',
      ];
      const typed = Object.fromEntries(fields.map((f) => [f, text(body, f, 4000)]));
      return showList(req, res, { error: why, typed: { ...typed, restricted: body.restricted === 'on' } });
    }
    res.redirect(303, `/admin/accounts/${created.id}`);
  });

  r.get('/:id', async (req, res) => showAccount(req, res));

  r.post(
    '/:id/settings',
    change(async (_req, res, account, body) => {
      const changes = settingsForm(body, decimals(res), s.accounts.timezone, account);
      if (Object.keys(changes).length > 0) await s.accounts.update(account.name, changes, actor(res));
    }),
  );

  r.post(
    '/:id/rename',
    change(async (_req, res, account, body) => {
      await s.accounts.rename(account.name, text(body, 'name', 1000), actor(res));
    }),
  );

  r.post(
    '/:id/allocation',
    change(async (_req, res, account, body) => {
      const limit = choice(body, 'limit', ALLOCATION_LIMITS);
      // Without a period field (a cron schedule) only the allocation and the limit change.
      const schedule: Partial<AllocationSchedule> =
        body.period === undefined
          ? { amount: parseAmount(text(body, 'allocation', 32), decimals(res), 'allocation') }
          : allocationSchedule(body, decimals(res));
      await s.allocations.change(account.name, { limit, schedule }, actor(res));
    }),
  );

  r.post(
    '/:id/archive',
    change(async (_req, res, account) => {
      await s.accounts.archive(account.name, actor(res));
    }),
  );

  r.post(
    '/:id/grant',
    change(async (_req, res, account, body) => {
      await s.accounts.grant(account.name, grantee(body), actor(res));
    }),
  );

  r.post(
    '/:id/revoke',
    change(async (_req, res, account, body) => {
      await s.accounts.revoke(account.name, grantee(body), actor(res));
    }),
  );

  r.post(
    '/:id/adjust',
    change(async (_req, res, account, body) => {
      const amount = parseAmount(text(body, 'amount', 32), decimals(res));
      await s.balances.adjust({ accountId: account.id, amount, comment: text(body, 'comment'), key: `web:adjust:${formKey(body)}`, actor: actor(res) });
    }),
  );

  r.post(
    '/:id/set-balance',
    change(async (_req, res, account, body) => {
      const balance = parseAmount(text(body, 'balance', 32), decimals(res), 'balance');
      await s.balances.set({ accountId: account.id, balance, comment: text(body, 'comment'), key: `web:set:${formKey(body)}`, actor: actor(res) });
    }),
  );
  return r;
}
