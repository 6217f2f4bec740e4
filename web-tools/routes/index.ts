/**
 * The web tools as one express router: static files, the request context, the one CSRF check,
 * then the sign-in, user and admin pages, and an error handler that answers with an HTML page.
 */
import path from 'node:path';
import express, { Router, type ErrorRequestHandler } from 'express';
import { isQuotientError } from '../../common/errors';
import { logRequestError, requestError } from '../../primary/http/error-middleware';
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
import { bareContext, csrfCheck, loadContext, page, type WebDeps } from './context';
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

/**
 * The catalogue key that explains an error to a person, and the key (or name) of the form field
 * it is about. The services' own messages are English for logs and the CLI; the pages say the
 * same thing from the catalogue, by error code and field, so a translated site stays translated.
 */
export function errorMessage(err: unknown): { message: string; field: string } {
  if (!isQuotientError(err)) return { message: 'error.500', field: '' };
  const named = err.details.field ?? err.details.key;
  const field = typeof named === 'string' && named !== '' ? (FIELD_KEYS.has(named) ? `field.${named}` : named) : '';
  switch (err.code) {
    case 'VALIDATION':
      return { message: field ? 'error.invalidField' : 'error.invalid', field };
    case 'BAD_REQUEST':
      return { message: 'error.badRequest', field: '' };
    case 'TOO_LARGE':
      return { message: 'error.tooLarge', field: '' };
    case 'NOT_FOUND':
      return { message: 'error.404', field: '' };
    case 'FORBIDDEN':
      return { message: 'error.403', field: '' };
    case 'INSUFFICIENT_FUNDS':
      return { message: 'error.insufficient', field: '' };
    case 'ALREADY_EXISTS':
    case 'IDEMPOTENCY_CONFLICT':
    case 'INVALID_STATE':
      return { message: 'error.done', field: '' };
    default:
      return { message: 'error.500', field: '' };
  }
}

/** Form fields with a name in the catalogue (`field.<name>`); others (setting keys) show as they are. */
const FIELD_KEYS = new Set(['amount', 'balance', 'comment', 'creditLimit', 'initialCredit', 'initialCreditLimit', 'formKey', 'id', 'reason', 'job', 'failureMode', 'decision', 'name', 'group']);

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
  // The context first, so that a body refused below (too large, unknown charset) is answered with
  // a page that knows the user and the language; then the body; then THE CSRF check, which
  // therefore never sees (and never answers 403 to) a body the parser refused.
  r.use(loadContext(deps));
  // 2000 fields: the rate-card form has five a price row (a card of a few hundred rows); 64 kB still bounds the body.
  r.use(express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 2000 }));
  r.use(csrfCheck(deps));
  r.use(authRoutes(deps));
  r.use('/admin', adminRoutes({ ...deps, admin: new AdminPages({ services: opts.services, secondaries: opts.secondaries }) }));
  r.use(userRoutes({ ...deps, pages: new UserPages({ services: opts.services }), transfers: new UserTransfers({ services: opts.services }) }));

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
