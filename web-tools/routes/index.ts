/**
 * The web tools as one express router: static files, the request context, the form body, the one
 * CSRF check, then the page families (FAMILIES: sign-in, admin and user pages; each declares its
 * paths and menu links beside its routes, menu.ts), and an error handler that answers every
 * error of every page, by class (middleware/request-errors.ts), with an HTML page.
 */
import path from 'node:path';
import express, { Router, type ErrorRequestHandler } from 'express';
import { logRequestError, requestError } from '../middleware/request-errors';
import type { Logger } from '../../common/logger';
import type { SecondaryRegistry } from '../../primary/cluster/secondary-registry';
import type { Services } from '../../primary/services';
import { AdminPages } from '../pages/admin-pages';
import { UserPages } from '../pages/user-pages';
import { WebAuth, type Sleep } from '../middleware/web-auth';
import { cacheTemplatesByDefault, createRenderer, webToolsDir } from '../render';
import { ACCOUNT_PAGES } from './accounts';
import { ADMIN_PAGES } from './admin';
import { CARD_PAGES } from './cards';
import { AUTH_PAGES } from './auth';
import { bareContext, csrfCheck, loadContext, page, type WebDeps } from '../middleware/context';
import { errorMessage } from './error-message';
import type { PageFamily } from './menu';
import { USER_PAGES } from './user';
import { LANGUAGE_PAGES } from './user-language';

export interface WebToolsOptions {
  services: Services;
  logger: Logger;
  secondaries?: SecondaryRegistry | undefined;
  /** Templates compiled once and cached (default: yes, unless NODE_ENV=development). */
  cacheTemplates?: boolean;
  /** How a sign-in waits out its address's delay (default: a timer). */
  signinSleep?: Sleep | undefined;
}

export { errorMessage };

/** What every page family's routes may use: the page models beside the common deps. */
type PageDeps = Parameters<typeof ADMIN_PAGES.routes>[0] & Parameters<typeof USER_PAGES.routes>[0];

/**
 * Every family of pages, in the order their routes are tried; the menus list their links in this
 * order too. A new family of pages is one more entry here (its file declares the rest).
 */
const FAMILIES: readonly PageFamily<PageDeps>[] = [AUTH_PAGES, USER_PAGES, LANGUAGE_PAGES, ADMIN_PAGES, CARD_PAGES, ACCOUNT_PAGES];

/** Whether the web tools answer a path: a family's path ('/' only itself) or a static file. */
export function isWebPath(p: string): boolean {
  if (p.startsWith('/static/')) return true;
  return FAMILIES.some((f) => f.paths.some((w) => p === w || (w !== '/' && p.startsWith(`${w}/`))));
}

export function createWebTools(opts: WebToolsOptions): Router {
  const deps: WebDeps = {
    services: opts.services,
    auth: new WebAuth({ db: opts.services.db, users: opts.services.users, sleep: opts.signinSleep }),
    render: createRenderer({ cache: opts.cacheTemplates ?? cacheTemplatesByDefault() }),
    menus: { main: FAMILIES.flatMap((f) => f.mainMenu ?? []), admin: FAMILIES.flatMap((f) => f.adminMenu ?? []) },
  };
  const r = Router();
  // Only the web tools' own paths go through here; everything else (/healthz, APIs) skips the
  // whole router, so its CSRF check and HTML errors never touch JSON endpoints.
  r.use((req, _res, next) => (isWebPath(req.path) ? next() : next('router')));
  r.use('/static', express.static(path.join(webToolsDir(), 'public'), { maxAge: '1h', index: false }));
  // The context first, so that a body refused below (too large, unknown charset) is answered with
  // a page that knows the user and the language; then the body; then THE CSRF check, which
  // therefore never sees (and never answers 403 to) a body the parser refused.
  r.use(loadContext(deps));
  // 2000 fields: the rate-card form has five a price row (a card of a few hundred rows); 64 kB still bounds the body.
  r.use(express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 2000 }));
  r.use(csrfCheck(deps));
  const pageDeps: PageDeps = {
    ...deps,
    admin: new AdminPages({ services: opts.services, secondaries: opts.secondaries }),
    pages: new UserPages({ services: opts.services }),
    transfers: opts.services.transfers,
  };
  for (const family of FAMILIES) r.use(family.routes(pageDeps));

  // Every error of every web route, by class (requestError): a readable page with the message
  // from the catalogue, logged as a client or a server error.
  const onError: ErrorRequestHandler = (err: unknown, req, res, next) => {
    if (res.headersSent) return next(err);
    const known = requestError(err);
    logRequestError(opts.logger, err, known, req, 'web tools');
    // A request refused before its context was built (the database did not answer) still gets a page.
    res.locals.web ??= bareContext(req);
    const status = known?.httpStatus ?? 500;
    const { message, field } = errorMessage(known ?? err);
    page(deps, res, 'error', { title: 'error.title', message, field }, [400, 402, 403, 404, 409, 413].includes(status) ? status : 500);
  };
  r.use(onError);
  return r;
}
