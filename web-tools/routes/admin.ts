/**
 * The admin pages (administrators only). Routes parse the form, call one AdminPages or service
 * method with the administrator's username as the actor, and redirect (POST/redirect/GET).
 */
import { Router, type Response } from 'express';
import { parseAmount } from '../../common/money';
import { ValidationError, isQuotientError } from '../../common/errors';
import type { QuotaRun } from '../../primary/quotas/quota-service';
import { FAILURE_MODES, UNKNOWN_PAGE_COUNTS, type AdminPages, type QuotaScheduleView } from '../pages/admin-pages';
import { localTime } from '../../primary/quotas/schedule-input';
import { adminPrinterRoutes } from './admin-printers';
import { adminQuotaRoutes } from './admin-quotas';
import { adminRateCardRoutes } from './admin-rate-cards';
import { currentUser, money, page, requireAdmin, requireUser, webContext, type WebDeps } from '../middleware/context';
import { errorMessage } from './error-message';
import { formKey, newFormKey } from './form-key';
import { checkbox, choice } from './form-fields';
import type { PageFamily } from './menu';

function id(value: unknown): number {
  if (typeof value !== 'string' || !/^\d{1,12}$/.test(value)) throw new ValidationError('not an id', { field: 'id' });
  return Number(value);
}

function text(body: Record<string, unknown>, field: string, max = 1000): string {
  const v = body[field];
  return typeof v === 'string' ? v.trim().slice(0, max) : '';
}

/** A quota run as the pages show it: formatted total, message keys for its state and reason. */
function runView(res: Response, r: QuotaRun): Record<string, unknown> {
  return { ...r, total: money(res, r.total), stateKey: `quotaRun.state.${r.state}`, reasonKey: `quotaRun.reason.${r.reason}` };
}

/**
 * A schedule as the groups page shows it: when it runs and what it does, as message keys and
 * formatted money; times in the primary's zone; the path and one-time key of its forms.
 */
function scheduleView(res: Response, v: QuotaScheduleView, zone: string): Record<string, unknown> {
  const q = v.schedule;
  return {
    name: q.name,
    path: `/admin/quotas/${encodeURIComponent(q.name)}`,
    formKey: newFormKey(),
    enabled: q.enabled,
    whenKey: `quota.when.${q.period}`,
    weekdayKey: `weekday.${q.weekday ?? 0}`,
    dayOfMonth: q.dayOfMonth,
    atTime: q.atTime,
    cron: q.cron,
    modeKey: q.mode === 'reset' ? 'quota.mode.reset' : q.cap === null ? 'quota.mode.add' : 'quota.mode.addCapped',
    amount: money(res, q.amount),
    cap: q.cap === null ? '' : money(res, q.cap),
    nextRun: v.nextRun === null ? '' : `${localTime(v.nextRun, zone)} ${zone}`,
    runs: v.runs.map((r) => ({ ...runView(res, r), period: `${localTime(r.periodStart, zone)} ${zone}` })),
  };
}

type AdminDeps = WebDeps & { admin: AdminPages };

/**
 * The admin pages (under /admin), the main menu's link to them, and the admin menu in order
 * (`id` is what a page passes as `admin`).
 */
export const ADMIN_PAGES: PageFamily<AdminDeps> = {
  paths: ['/admin'],
  mainMenu: [{ id: 'admin', href: '/admin', label: 'nav.admin', onlyIf: 'admin' }],
  adminMenu: [
    { id: 'dashboard', href: '/admin', label: 'admin.dashboard' },
    { id: 'users', href: '/admin/users', label: 'admin.users' },
    { id: 'groups', href: '/admin/groups', label: 'admin.groups' },
    { id: 'printers', href: '/admin/printers', label: 'admin.printers' },
    { id: 'secondaries', href: '/admin/secondaries', label: 'admin.secondaries' },
    { id: 'refunds', href: '/admin/refunds', label: 'admin.refunds' },
    { id: 'audit', href: '/admin/audit', label: 'admin.audit' },
    { id: 'settings', href: '/admin/settings', label: 'admin.settings' },
  ],
  routes: (deps) => Router().use('/admin', adminRoutes(deps)),
};

export function adminRoutes(deps: AdminDeps): Router {
  const r = Router();
  const s = deps.services;
  r.use(requireUser(deps), requireAdmin(deps));
  const actor = (res: Response): string => currentUser(res).user.username;
  const decimals = (res: Response): number => webContext(res).currency.decimals;

  r.get('/', async (_req, res) => {
    const d = await deps.admin.dashboard();
    page(deps, res, 'admin-dashboard', {
      title: 'admin.dashboard',
      admin: 'dashboard',
      d: {
        ...d,
        secondaries: d.secondaries.map((x) => ({ ...x, stateKey: `state.${x.state}`, roleKey: `role.${x.role}` })),
        quotaRuns: d.quotaRuns.map((r) => runView(res, r)),
      },
    });
  });

  r.get('/users', async (req, res) => {
    const q = typeof req.query.q === 'string' ? req.query.q.slice(0, 100) : '';
    const users = await s.users.list({ search: q, limit: 100 });
    page(deps, res, 'admin-users', { title: 'admin.users', admin: 'users', q, users: users.map((u) => ({ ...u, balance: money(res, u.balance) })) });
  });

  r.get('/users/:id', async (req, res) => {
    const u = await s.users.detail(id(req.params.id));
    const history = await s.ledger.history(u.account.id, { limit: 20 });
    page(deps, res, 'admin-user', {
      title: 'admin.users',
      admin: 'users',
      u,
      balance: money(res, u.account.balance),
      creditLimitText: u.account.creditLimit === null ? '' : (u.account.creditLimit / 10 ** decimals(res)).toFixed(decimals(res)),
      formKey: newFormKey(),
      history: history.map((e) => ({ ...e, typeKey: `type.${e.type}`, amount: money(res, e.amount), balanceAfter: money(res, e.balanceAfter) })),
    });
  });

  r.post('/users/:id/adjust', async (req, res) => {
    const userId = id(req.params.id);
    const body = req.body as Record<string, unknown>;
    await deps.admin.adjustBalance(userId, parseAmount(text(body, 'amount', 32), decimals(res)), text(body, 'comment'), formKey(body), actor(res));
    res.redirect(303, `/admin/users/${userId}`);
  });

  r.post('/users/:id/set-balance', async (req, res) => {
    const userId = id(req.params.id);
    const body = req.body as Record<string, unknown>;
    await deps.admin.setBalance(userId, parseAmount(text(body, 'balance', 32), decimals(res)), text(body, 'comment'), formKey(body), actor(res));
    res.redirect(303, `/admin/users/${userId}`);
  });

  r.post('/users/:id/account', async (req, res) => {
    const userId = id(req.params.id);
    const body = req.body as Record<string, unknown>;
    const limit = text(body, 'creditLimit', 32);
    await deps.admin.setAccountRules(userId, checkbox(body, 'restricted'), limit === '' ? null : parseAmount(limit, decimals(res), 'creditLimit'), actor(res));
    res.redirect(303, `/admin/users/${userId}`);
  });

  r.get('/groups', async (_req, res) => {
    const groups = await s.groups.list();
    const schedules = await deps.admin.quotaSchedules();
    const d = decimals(res);
    const plain = (m: number | null): string => (m === null ? '' : (m / 10 ** d).toFixed(d)); // what the form field shows
    const zone = s.quotas.timezone;
    page(deps, res, 'admin-groups', {
      title: 'admin.groups',
      admin: 'groups',
      groups: groups.map((g) => ({
        ...g,
        initialCreditText: plain(g.initialCredit),
        initialCreditLimitText: plain(g.initialCreditLimit),
        restrictedDefault: g.initialRestricted === null,
        restrictedYes: g.initialRestricted === true,
        restrictedNo: g.initialRestricted === false,
        schedules: schedules.filter((v) => v.schedule.groupId === g.id).map((v) => scheduleView(res, v, zone)),
      })),
      everyone: schedules.filter((v) => v.schedule.groupId === null && v.schedule.accountId === null).map((v) => scheduleView(res, v, zone)),
      // Schedules paying a shared account or each user of an allocation account, named as `quotient quotas list` names them.
      accounts: schedules
        .filter((v) => v.schedule.accountId !== null)
        .map((v) => ({
          payeeKey: v.schedule.target === 'allocation' ? 'quota.payee.allocation' : 'quota.payee.account',
          account: v.schedule.account,
          schedules: [scheduleView(res, v, zone)],
        })),
      timezone: zone,
      quotaFormKey: newFormKey(),
    });
  });

  /** New-user rules of one group (audited by GroupService.setRules). */
  r.post('/groups/rules', async (req, res) => {
    const body = req.body as Record<string, unknown>;
    const restricted = choice(body, 'initialRestricted', ['default', 'yes', 'no']);
    const limit = text(body, 'initialCreditLimit', 32);
    await s.groups.setRules(
      text(body, 'group', 128),
      {
        initialCredit: parseAmount(text(body, 'initialCredit', 32) || '0', decimals(res), 'initialCredit'),
        initialRestricted: restricted === 'yes' ? true : restricted === 'no' ? false : null,
        initialCreditLimit: limit === '' ? null : parseAmount(limit, decimals(res), 'initialCreditLimit'),
      },
      actor(res),
    );
    res.redirect(303, '/admin/groups');
  });

  r.use('/quotas', adminQuotaRoutes(deps));
  r.use('/printers', adminPrinterRoutes(deps));

  r.get('/printers', async (_req, res) => {
    const cards = await deps.admin.rateCards();
    page(deps, res, 'admin-printers', {
      title: 'admin.printers',
      admin: 'printers',
      rateCards: cards,
      printers: (await deps.admin.printers()).map((p) => ({
        ...p,
        modes: FAILURE_MODES.map((m) => ({ value: m, key: `failure.${m}`, selected: m === p.failureMode })),
        unknownRules: UNKNOWN_PAGE_COUNTS.map((m) => ({ value: m, key: `unknownPages.${m}`, selected: m === p.unknownPageCount })),
        cards: cards.map((c) => ({ id: c.id, name: c.name, selected: c.id === p.rateCardId })),
      })),
    });
  });

  r.use(adminRateCardRoutes(deps));

  r.post('/printers/:id/charging', async (req, res) => {
    const body = req.body as Record<string, unknown>;
    const unknownPageCount = typeof body.unknownPageCount === 'string' ? text(body, 'unknownPageCount', 16) : undefined;
    await deps.admin.setPrinterCharging(id(req.params.id), text(body, 'failureMode', 16), id(body.rateCardId), actor(res), unknownPageCount);
    res.redirect(303, '/admin/printers');
  });

  r.post('/printers/:id/enabled', async (req, res) => {
    await deps.admin.setPrinterEnabled(id(req.params.id), choice(req.body as Record<string, unknown>, 'enabled', ['true', 'false']) === 'true', actor(res));
    res.redirect(303, '/admin/printers');
  });

  r.get('/secondaries', async (_req, res) => {
    page(deps, res, 'admin-secondaries', {
      title: 'admin.secondaries',
      admin: 'secondaries',
      secondaries: (await deps.admin.listSecondaries()).map((x) => ({ ...x, stateKey: `state.${x.state}`, roleKey: `role.${x.role}` })),
    });
  });

  r.get('/refunds', async (req, res) => {
    const all = req.query.all === '1';
    const rows = await deps.admin.refunds(all ? 'all' : 'pending');
    page(deps, res, 'admin-refunds', {
      title: 'admin.refunds',
      admin: 'refunds',
      all,
      rows: rows.map((x) => ({ ...x, amount: money(res, x.amount), pending: x.state === 'pending', stateKey: `refund.${x.state}` })),
    });
  });

  r.post('/refunds/:id/:decision', async (req, res) => {
    const body = req.body as Record<string, unknown>;
    const requestId = id(req.params.id);
    if (req.params.decision === 'approve') await deps.admin.approveRefund(requestId, text(body, 'comment'), actor(res));
    else if (req.params.decision === 'reject') await deps.admin.rejectRefund(requestId, text(body, 'comment'), actor(res));
    else throw new ValidationError('unknown decision', { field: 'decision' });
    res.redirect(303, '/admin/refunds');
  });

  r.get('/audit', async (_req, res) => {
    const rows = await deps.admin.audit();
    page(deps, res, 'admin-audit', { title: 'admin.audit', admin: 'audit', rows: rows.map((a) => ({ ...a, details: JSON.stringify(a.details) })) });
  });

  r.get('/settings', async (req, res) => {
    page(deps, res, 'admin-settings', { title: 'admin.settings', admin: 'settings', saved: req.query.saved === '1', settings: await deps.admin.settings() });
  });

  /** The whole form is saved or none of it; a refused form is shown again as typed, naming the field. */
  r.post('/settings', async (req, res) => {
    const form: Record<string, unknown> = { ...(req.body as Record<string, unknown>) };
    delete form._csrf;
    try {
      await deps.admin.saveSettings(form, actor(res));
    } catch (err) {
      if (!isQuotientError(err) || err.code !== 'VALIDATION') throw err;
      const typed = (await deps.admin.settings()).map((f) => {
        const v = form[f.key];
        return f.checkbox ? { ...f, checked: v !== undefined } : { ...f, value: typeof v === 'string' ? v : '' };
      });
      const { message, field } = errorMessage(err);
      return page(deps, res, 'admin-settings', { title: 'admin.settings', admin: 'settings', settings: typed, error: { message, field } }, 400);
    }
    res.redirect(303, '/admin/settings?saved=1');
  });

  return r;
}
