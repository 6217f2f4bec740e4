/**
 * The web tools as one express router: static files, the request context, the one CSRF check,
 * then the sign-in, user and admin pages, and an error handler that answers with an HTML page.
 */
import path from 'node:path';
import express, { Router, type ErrorRequestHandler } from 'express';
import { isQuotientError } from '../../common/errors';
import type { Logger } from '../../common/logger';
import type { SecondaryRegistry } from '../../primary/cluster/secondary-registry';
import type { Services } from '../../primary/services';
import { AdminPages } from '../../primary/web/admin-pages';
import { UserTransfers } from '../../primary/web/transfers';
import { UserPages } from '../../primary/web/user-pages';
import { WebAuth } from '../../primary/web/web-auth';
import { cacheTemplatesByDefault, createRenderer, webToolsDir } from '../render';
import { adminRoutes } from './admin';
import { authRoutes } from './auth';
import { csrfCheck, loadContext, page, type WebDeps } from './context';
import { userRoutes } from './user';

export interface WebToolsOptions {
  services: Services;
  logger: Logger;
  secondaries?: SecondaryRegistry | undefined;
  /** Templates compiled once and cached (default: yes, unless NODE_ENV=development). */
  cacheTemplates?: boolean;
}

const WEB_PREFIXES = ['/static/', '/admin', '/jobs', '/transactions', '/internet', '/transfers', '/rates', '/widget'];

export function isWebPath(p: string): boolean {
  return p === '/' || p === '/signin' || p === '/signout' || WEB_PREFIXES.some((w) => p === w || p.startsWith(w.endsWith('/') ? w : `${w}/`));
}

export function createWebTools(opts: WebToolsOptions): Router {
  const deps: WebDeps = {
    services: opts.services,
    auth: new WebAuth({ db: opts.services.db, users: opts.services.users }),
    render: createRenderer({ cache: opts.cacheTemplates ?? cacheTemplatesByDefault() }),
  };
  const r = Router();
  // Only the web tools' own paths go through here; everything else (/healthz, APIs) skips the
  // whole router, so its CSRF check and HTML errors never touch JSON endpoints.
  r.use((req, _res, next) => (isWebPath(req.path) ? next() : next('router')));
  r.use('/static', express.static(path.join(webToolsDir(), 'public'), { maxAge: '1h', index: false }));
  r.use(express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 100 }));
  r.use(loadContext(deps), csrfCheck(deps));
  r.use(authRoutes(deps));
  r.use('/admin', adminRoutes({ ...deps, admin: new AdminPages({ services: opts.services, secondaries: opts.secondaries }) }));
  r.use(userRoutes({ ...deps, pages: new UserPages({ services: opts.services }), transfers: new UserTransfers({ services: opts.services }) }));

  const onError: ErrorRequestHandler = (err: unknown, _req, res, next) => {
    if (res.headersSent || !res.locals.web) return next(err);
    const status = isQuotientError(err) ? err.httpStatus : 500;
    if (status >= 500) opts.logger.error({ err }, 'web tools: request failed');
    const known = [400, 402, 403, 404, 409].includes(status);
    const key = status === 404 ? 'error.404' : status === 403 ? 'error.403' : known ? 'error.400' : 'error.500';
    page(deps, res, 'error', { title: 'error.title', message: key, detail: known && isQuotientError(err) ? err.message : '' }, known ? status : 500);
  };
  r.use(onError);
  return r;
}
