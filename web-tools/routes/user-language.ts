/**
 * The signed-in user's own language for the web tools (the form on the summary page): one of the
 * shipped languages, or '' to let the browser's languages choose again.
 */
import { Router } from 'express';
import { ValidationError } from '../../common/errors';
import { isLanguage } from '../../primary/users/languages';
import { currentUser, requireUser, type WebDeps } from '../middleware/context';
import type { PageFamily } from './menu';

export const LANGUAGE_PAGES: PageFamily<WebDeps> = {
  paths: ['/language'],
  routes: (deps) => languageRoutes(deps),
};

export function languageRoutes(deps: WebDeps): Router {
  const r = Router();
  r.post('/language', requireUser(deps), async (req, res) => {
    const chosen = (req.body as Record<string, unknown>).language;
    if (chosen !== '' && !isLanguage(chosen)) throw new ValidationError('language is not one of the shipped languages', { field: 'language' });
    const { user } = currentUser(res);
    await deps.services.users.update(user.id, { language: chosen === '' ? null : chosen }, user.username);
    res.redirect(303, '/#language');
  });
  return r;
}
