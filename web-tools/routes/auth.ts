/** Sign-in and sign-out pages. */
import crypto from 'node:crypto';
import { Router } from 'express';
import { PRESIGNIN_COOKIE, SESSION_COOKIE, clearCookie, setCookie } from '../middleware/cookies';
import { ABSOLUTE_TIMEOUT_MS } from '../middleware/session-store';
import { currentUser, page, requireUser, webContext, type WebDeps } from '../middleware/context';
import type { PageFamily } from './menu';

export const AUTH_PAGES: PageFamily<WebDeps> = { paths: ['/signin', '/signout'], routes: (deps) => authRoutes(deps) };

export function authRoutes(deps: WebDeps): Router {
  const r = Router();

  r.get('/signin', (req, res) => {
    if (webContext(res).user) return res.redirect(303, '/');
    // A fresh double-submit token for the form when the browser has none yet.
    if (!webContext(res).csrf) {
      const token = crypto.randomBytes(24).toString('base64url');
      setCookie(req, res, PRESIGNIN_COOKIE, token, 3600);
      webContext(res).csrf = token;
    }
    page(deps, res, 'signin', { title: 'signin.title' });
  });

  r.post('/signin', async (req, res) => {
    const body = req.body as Record<string, unknown>;
    const username = typeof body.username === 'string' ? body.username.slice(0, 200) : '';
    const password = typeof body.password === 'string' ? body.password.slice(0, 1024) : '';
    // req.ip: the client's address, from X-Forwarded-For only behind a trusted proxy (primary/http/app.ts).
    const result = await deps.auth.signIn(username, password, req.ip ?? 'unknown');
    if (!result.ok) {
      const error =
        result.reason === 'throttled' ? { key: 'signin.throttled', seconds: Math.ceil(result.retryAfterMs / 1000) } : { key: 'signin.invalid', seconds: 0 };
      if (result.reason === 'throttled') res.setHeader('Retry-After', String(error.seconds));
      return page(deps, res, 'signin', { title: 'signin.title', error, username }, result.reason === 'throttled' ? 429 : 401);
    }
    clearCookie(req, res, PRESIGNIN_COOKIE);
    setCookie(req, res, SESSION_COOKIE, result.token, Math.floor(ABSOLUTE_TIMEOUT_MS / 1000));
    res.redirect(303, '/');
  });

  r.post('/signout', requireUser(deps), async (req, res) => {
    await deps.auth.signOut(currentUser(res).session);
    clearCookie(req, res, SESSION_COOKIE);
    res.redirect(303, '/signin');
  });

  return r;
}
