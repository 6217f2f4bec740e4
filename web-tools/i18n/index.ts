/**
 * The message catalogues of the web tools. English is the source and the fallback; every other
 * shipped language is a JSON file of the same keys (a unit test fails when one lacks a key or a
 * placeholder). The language of a request is the signed-in user's own choice, else the best of
 * the browser's Accept-Language among the shipped ones, else English.
 */
import type { Request } from 'express';
import { LANGUAGES, type Language } from '../../primary/users/languages';
import en from './en.json';
import es from './es.json';

export type Messages = Readonly<Record<string, string>>;

/** Languages shipped, by tag. Add a language: a JSON file beside en.json, a line here and its tag in primary/users/languages.ts. */
export const CATALOGUES: Readonly<Record<Language, Messages>> = { en, es };
export const DEFAULT_LANGUAGE: Language = 'en';

/**
 * The language of a request: the user's own setting when there is one and it is shipped, else
 * the browser's preference among the shipped languages (express's acceptsLanguages: q-values
 * honoured, 'es-MX' matches 'es'), else English.
 */
export function chooseLanguage(req: Pick<Request, 'acceptsLanguages'>, userLanguage?: string | null): Language {
  const own = LANGUAGES.find((l) => l === userLanguage);
  if (own) return own;
  const accepted = req.acceptsLanguages(...LANGUAGES);
  return LANGUAGES.find((l) => l === accepted) ?? DEFAULT_LANGUAGE;
}

/** Why a lookup did not find its key in the page's language: English stood in, or nothing did. */
export interface Fallback {
  lang: string;
  key: string;
  to: 'english' | 'key';
}

const fallbackListeners = new Set<(fallback: Fallback) => void>();

/** Calls `listener` for every lookup that falls back (the page-translation tests listen); returns the unsubscribe. */
export function onFallback(listener: (fallback: Fallback) => void): () => void {
  fallbackListeners.add(listener);
  return () => fallbackListeners.delete(listener);
}

/** The placeholders `{name}` a message fills, sorted (the same in every catalogue). */
export function placeholdersOf(text: string): string[] {
  return [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '').sort();
}

/** Looks a key up (falling back to English, then to the key itself) and fills `{name}` placeholders. */
export function translate(lang: string, key: string, params: Record<string, unknown> = {}): string {
  // Own keys only: a field named "constructor" in a tampered form is not a message.
  const own = (messages: Messages | undefined): string | undefined => (messages !== undefined && Object.hasOwn(messages, key) ? messages[key] : undefined);
  let text = own(Object.hasOwn(CATALOGUES, lang) ? CATALOGUES[lang as Language] : undefined);
  if (text === undefined) {
    text = own(en);
    if (fallbackListeners.size > 0) for (const listener of fallbackListeners) listener({ lang, key, to: text === undefined ? 'key' : 'english' });
  }
  return (text ?? key).replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}
