/**
 * The languages the web tools are shipped in, by tag: what a user's language setting may be.
 * web-tools/i18n has one catalogue for each (its type makes a missing one a compile error).
 */
export const LANGUAGES = ['en', 'es'] as const;
export type Language = (typeof LANGUAGES)[number];

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}
