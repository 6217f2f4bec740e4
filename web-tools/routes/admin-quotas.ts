/**
 * The admin forms that manage quota schedules (mounted at /admin/quotas; the schedules are shown
 * on /admin/groups): create, enable, disable, remove, run now. Each is a plain POST with the CSRF
 * token (checked before any route) and a one-time form key; each answers with a redirect
 * (POST/redirect/GET), or a page that says from the catalogue why the change was refused.
 */
import { Router, type ErrorRequestHandler, type Response } from 'express';
import { NotFoundError, ValidationError, isQuotientError } from '../../common/errors';
import { localTime } from '../../primary/quotas/schedule-input';
import { QuotaAdmin } from '../../primary/quotas/quota-admin';
import { currentUser, money, page, type WebDeps } from '../middleware/context';
import { formKey } from './form-key';
import { checkbox, choice } from './form-fields';

const FIELD = (body: Record<string, unknown>, field: string, max = 200): string => {
  const v = body[field];
  return typeof v === 'string' ? v.trim().slice(0, max) : '';
};

/** Fields whose refusal has a message of its own (`quota.error.<field>`). */
const REFUSED_FIELDS = new Set(['name', 'group', 'period', 'weekday', 'day', 'at', 'cron', 'amount', 'cap', 'mode', 'formKey']);

/** The catalogue key that says why a quota form was refused. */
export function quotaRefusal(err: unknown): string | undefined {
  if (!isQuotientError(err)) return undefined;
  const field = err.details.field;
  switch (err.code) {
    case 'VALIDATION':
      return typeof field === 'string' && REFUSED_FIELDS.has(field) ? `quota.error.${field}` : 'quota.error.invalid';
    case 'ALREADY_EXISTS':
      return 'quota.error.exists';
    case 'NOT_FOUND':
      return err.details.what === 'group' ? 'quota.error.unknownGroup' : 'quota.error.notFound';
    case 'INVALID_STATE':
      return 'quota.error.noPeriod';
    default:
      return undefined;
  }
}

export function adminQuotaRoutes(deps: WebDeps): Router {
  const r = Router();
  const quotas = new QuotaAdmin({ services: deps.services });
  const actor = (res: Response): string => currentUser(res).user.username;
  const scheduleName = (value: unknown): string => {
    if (typeof value !== 'string' || value.trim() === '' || value.length > 128) throw new ValidationError('not a schedule name', { field: 'name' });
    return value;
  };

  r.post('/', async (req, res) => {
    const body = req.body as Record<string, unknown>;
    const forWhom = FIELD(body, 'for', 128);
    await quotas.create(
      {
        name: FIELD(body, 'name', 200),
        // "for" is a group name, or "*" for all users (no group can be called "*" in the form's list).
        group: forWhom === '*' ? '' : forWhom,
        allUsers: forWhom === '*',
        period: FIELD(body, 'period', 16),
        weekday: FIELD(body, 'weekday', 16),
        day: FIELD(body, 'day', 4),
        at: FIELD(body, 'at', 8),
        cron: FIELD(body, 'cron', 200),
        amount: FIELD(body, 'amount', 32),
        mode: FIELD(body, 'mode', 8),
        cap: FIELD(body, 'cap', 32),
        disabled: checkbox(body, 'disabled'),
      },
      formKey(body),
      actor(res),
    );
    res.redirect(303, '/admin/groups');
  });

  r.post('/:name/enabled', async (req, res) => {
    const body = req.body as Record<string, unknown>;
    await quotas.setEnabled(scheduleName(req.params.name), choice(body, 'enabled', ['true', 'false']) === 'true', formKey(body), actor(res));
    res.redirect(303, '/admin/groups');
  });

  r.post('/:name/remove', async (req, res) => {
    const body = req.body as Record<string, unknown>;
    await quotas.remove(scheduleName(req.params.name), formKey(body), actor(res));
    res.redirect(303, '/admin/groups');
  });

  r.post('/:name/run', async (req, res) => {
    const body = req.body as Record<string, unknown>;
    const { run, ran } = await quotas.runNow(scheduleName(req.params.name), formKey(body), actor(res));
    res.redirect(303, `/admin/quotas/${encodeURIComponent(run.schedule)}/runs/${run.id}${ran ? '' : '?again=1'}`);
  });

  /** What a run paid, after "run now": a fresh run, or a period that had already run. */
  r.get('/:name/runs/:id', async (req, res) => {
    const runId = /^\d{1,12}$/.test(req.params.id) ? Number(req.params.id) : NaN;
    const run = Number.isNaN(runId) ? undefined : await quotas.run(scheduleName(req.params.name), runId);
    if (!run) throw new NotFoundError('quota run', req.params.id);
    const zone = quotas.timezone;
    page(deps, res, 'admin-quota-run', {
      title: 'admin.groups',
      admin: 'groups',
      again: req.query.again === '1',
      run: {
        id: run.id,
        schedule: run.schedule,
        period: `${localTime(run.periodStart, zone)} ${zone}`,
        users: run.users,
        total: money(res, run.total),
        stateKey: `quotaRun.state.${run.state}`,
      },
    });
  });

  const refused: ErrorRequestHandler = (err: unknown, _req, res, next) => {
    const message = quotaRefusal(err);
    if (message === undefined || !isQuotientError(err)) return next(err);
    page(
      deps,
      res,
      'admin-quota-refused',
      { title: 'admin.groups', admin: 'groups', message },
      [400, 404, 409].includes(err.httpStatus) ? err.httpStatus : 400,
    );
  };
  r.use(refused);
  return r;
}
