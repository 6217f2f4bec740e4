/**
 * The scopes an API client may hold (docs/api.md#scopes), and Pharos Cloud's name for a bundle of
 * them: `cloudprint:billing-accounts` grants accounts:read, accounts:write and activities:write,
 * so an integration written for Pharos asks for what it knows.
 */
import { ValidationError } from '../../common/errors';

export const SCOPES = [
  'users:read',
  'users:write',
  'balances:read',
  'balances:write',
  'accounts:read',
  'accounts:write',
  'activities:write',
  'reports:read',
] as const;

export type Scope = (typeof SCOPES)[number];

/** Names that stand for several scopes. */
export const SCOPE_ALIASES: Readonly<Record<string, readonly Scope[]>> = {
  'cloudprint:billing-accounts': ['accounts:read', 'accounts:write', 'activities:write'],
};

export function isScopeName(name: string): boolean {
  return (SCOPES as readonly string[]).includes(name) || Object.hasOwn(SCOPE_ALIASES, name);
}

/** Scope names from a list (commas or spaces between), each once, in the order given; an unknown name is refused. */
export function parseScopeNames(text: string): string[] {
  const names = [...new Set(text.split(/[\s,]+/).filter((n) => n !== ''))];
  const unknown = names.filter((n) => !isScopeName(n));
  if (unknown.length > 0)
    throw new ValidationError(`unknown scope(s): ${unknown.join(', ')}; known: ${[...SCOPES, ...Object.keys(SCOPE_ALIASES)].join(', ')}`, { unknown });
  return names;
}

/** The scopes these names grant, aliases expanded. */
export function expandScopes(names: readonly string[]): Set<Scope> {
  const out = new Set<Scope>();
  for (const n of names) {
    for (const s of SCOPE_ALIASES[n] ?? [n as Scope]) out.add(s);
  }
  return out;
}
