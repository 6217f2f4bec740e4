/**
 * The per-request context of the web tools and the middleware that builds and guards it:
 * session from the cookie, language (the user's own, else the browser's), the one CSRF check for every
 * state-changing request, and the user/admin guards.
 */
import crypto from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { formatAmount, type CurrencyFormat, type Money } from '../../common/money';
import type { Services } from '../../primary/services';
import type { WebAuth } from './web-auth';
import type { SessionUser, WebSession } from './session-store';
import { PRESIGNIN_COOKIE, SESSION_COOKIE, readCookie } from './cookies';
import { chooseLanguage } from '../i18n';
import type { Renderer } from '../render';
import { shownMenus, type Menus } from '../routes/menu';

export interface WebContext {
  lang: string;
  session?: WebSession;
  user?: SessionUser;
  currency: CurrencyFormat;
  /** The token every form of this request carries. */
  csrf: string;
  /** Whether transfers between users are on (the navigation shows them only then). */
  transfers: boolean;
}

export interface WebDeps {
  services: Services;
  auth: WebAuth;
  render: Renderer;
  /** Every page family's menu links (routes/index.ts collects them). */
  menus: Menus;
}

export function webContext(res: Response): WebContext {
  return res.locals.web as WebContext;
}

/** The signed-in user (only after requireUser). */
export function currentUser(res: Response): { user: SessionUser; session: WebSession } {
  const ctx = webContext(res);
  if (!ctx.user || !ctx.session) throw new Error('currentUser() outside requireUser');
  return { user: ctx.user, session: ctx.session };
}

export function money(res: Response, amount: Money): string {
  return formatAmount(amount, webContext(res).currency);
}

/** Renders a page with the common context (language, user, CSRF token). */
export function page(deps: WebDeps, res: Response, view: string, data: Record<string, unknown>, status = 200): void {
  const ctx = webContext(res);
  const html = deps.render(view, {
    ...data,
    lang: ctx.lang,
    me: ctx.user ? { username: ctx.user.username, isAdmin: ctx.user.isAdmin, transfers: ctx.transfers, language: ctx.user.language ?? '' } : null,
    menu: ctx.user ? shownMenus(deps.menus, { isAdmin: ctx.user.isAdmin, transfers: ctx.transfers }, data) : null,
    csrf: ctx.csrf,
  });
  res.status(status).type('html').setHeader('Cache-Control', 'no-store');
  res.send(html);
}

/** The context of a request nobody is signed in to, in the browser's language and the default currency. */
export function bareContext(req: Request): WebContext {
  return { lang: chooseLanguage(req), currency: { symbol: '$', decimals: 2 }, csrf: '', transfers: false };
}

/** Loads the session named by the cookie (if live and its user enabled) and the language. */
export function loadContext(deps: WebDeps): RequestHandler {
  return async (req, res, next) => {
    const ctx: WebContext = { lang: chooseLanguage(req), currency: await deps.services.settings.currency(), csrf: '', transfers: false };
    const token = readCookie(req, SESSION_COOKIE);
    if (token) {
      const found = await deps.auth.sessions.find(token);
      if (found) {
        ctx.session = found.session;
        ctx.user = found.user;
        ctx.csrf = found.session.csrfSecret;
        ctx.transfers = await deps.services.settings.get('transfers.enabled');
        ctx.lang = chooseLanguage(req, found.user.language);
      }
    }
    if (!ctx.session) ctx.csrf = readCookie(req, PRESIGNIN_COOKIE) ?? '';
    res.locals.web = ctx;
    next();
  };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && x.length > 0 && crypto.timingSafeEqual(x, y);
}

/**
 * THE CSRF check: every non-GET request to the web tools carries `_csrf` in its form, equal to
 * the session's secret (signed in) or to the sign-in cookie (the sign-in form). Anything else
 * is answered 403 before any route runs.
 */
export function csrfCheck(deps: WebDeps): RequestHandler {
  return (req, res, next) => {
    if (SAFE_METHODS.has(req.method)) return next();
    const body = (req.body ?? {}) as Record<string, unknown>;
    const sent = typeof body._csrf === 'string' ? body._csrf : '';
    if (sameToken(sent, webContext(res).csrf)) return next();
    page(deps, res, 'error', { title: 'error.title', message: 'error.403' }, 403);
  };
}

/** Signed-in users only: a GET (or HEAD, which is a GET without the body) goes to the sign-in page, anything else is refused. */
export function requireUser(deps: WebDeps): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (webContext(res).user) return next();
    if (req.method === 'GET' || req.method === 'HEAD') return res.redirect(303, '/signin');
    page(deps, res, 'error', { title: 'error.title', message: 'error.403' }, 403);
  };
}

/** Administrators only: 403 for everyone else (signed in or not). */
export function requireAdmin(deps: WebDeps): RequestHandler {
  return (_req, res, next) => {
    if (webContext(res).user?.isAdmin) return next();
    page(deps, res, 'error', { title: 'error.title', message: 'error.403' }, 403);
  };
}
