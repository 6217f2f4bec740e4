/**
 * The one message catalogue of the web tools. English is the source and the fallback; each other
 * shipped language is a JSON file of the same keys (missing keys fall back to English). The
 * browser's Accept-Language picks among the shipped languages.
 */
import en from './en.json';

export type Messages = Readonly<Record<string, string>>;

/** Languages shipped, by tag. Add a language: a JSON file beside en.json and a line here. */
export const CATALOGUES: Readonly<Record<string, Messages>> = { en };
export const DEFAULT_LANGUAGE = 'en';

/** The best shipped language for an Accept-Language header (q-values honoured; 'fr-CA' matches 'fr'). */
export function pickLanguage(header: string | undefined, shipped: readonly string[] = Object.keys(CATALOGUES)): string {
  if (!header) return DEFAULT_LANGUAGE;
  const wanted = header
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
      return { tag: tag.trim().toLowerCase(), q: q === undefined ? 1 : Number(q), index };
    })
    .filter((w) => w.tag && w.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const w of wanted) {
    const exact = shipped.find((s) => s.toLowerCase() === w.tag);
    if (exact) return exact;
    const base = shipped.find((s) => s.toLowerCase() === w.tag.split('-')[0]);
    if (base) return base;
  }
  return DEFAULT_LANGUAGE;
}

/** Looks a key up (falling back to English, then to the key itself) and fills `{name}` placeholders. */
export function translate(lang: string, key: string, params: Record<string, unknown> = {}): string {
  // Own keys only: a field named "constructor" in a tampered form is not a message.
  const own = (messages: Messages | undefined): string | undefined => (messages !== undefined && Object.hasOwn(messages, key) ? messages[key] : undefined);
  const text = own(CATALOGUES[lang]) ?? own(en) ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}
