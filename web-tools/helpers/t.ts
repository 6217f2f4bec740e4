/**
 * Usage: {{t "summary.balance"}} or {{t "signin.throttled" seconds=retry}}
 * A message from the catalogue in the page's language (res.locals.lang); the result is escaped
 * by Handlebars like any other value.
 */
import type { HelperOptions } from 'handlebars';
import { translate } from '../i18n';

export function t(key: unknown, options: HelperOptions): string {
  const root = (options.data as { root?: { lang?: string } } | undefined)?.root;
  return translate(root?.lang ?? 'en', String(key), options.hash as Record<string, unknown>);
}
