/**
 * Which account pays for a print job (docs/accounts.md, "How a job chooses its account"):
 *
 * 1. A job that names an account (`-o job-account-id=CODE` or `CODE-PIN`, CUPS's `job-billing`)
 *    charges that shared account, when the user has access to it (listed, through a group, or a
 *    global account), it is enabled, not archived, within its start and expiry dates, and the
 *    PIN matches when it has one. Otherwise the job is denied with the reason.
 * 2. Otherwise the user's active account: the one they chose (their personal account included)
 *    while they may still charge it; with no choice, or one no longer usable, the alphabetically
 *    first shared account they may charge; with none, their personal account.
 * A per-user allocation account is chosen like any shared account; the charge path then charges
 * the user's own balance on it (allocations.ts).
 *
 * `loadChargeContext` reads what the rule needs for many users at once (prepared statements, a
 * print batch's phase before its transaction); `chooseAccount` applies the rule, touching nothing.
 */
import type { SqlReader } from '../db/sql-runner';
import { nameKey, parseJobAccount } from './account-names';
import type { AllocationLimit } from './allocations';

/** A shared account as the charge path sees it. */
export interface ChargeableAccount {
  id: number;
  name: string;
  code: string | null;
  pin: string | null;
  enabled: boolean;
  archived: boolean;
  startsAt: number | null;
  expiresAt: number | null;
  multiplierBp: number;
  /** A per-user allocation account's limit type (allocations.ts); null for a shared balance. */
  allocationLimit: AllocationLimit | null;
}

interface ChargeableRow {
  id: number;
  name: string;
  code: string | null;
  pin: string | null;
  enabled: number | boolean;
  archived: number | boolean;
  starts_at: number | string | null;
  expires_at: number | string | null;
  cost_multiplier_bp: number;
  allocation_model: string;
  allocation_limit: string | null;
}

const COLUMNS = 'a.id, a.name, a.code, a.pin, a.enabled, a.archived, a.starts_at, a.expires_at, a.cost_multiplier_bp, a.allocation_model, a.allocation_limit';

function toChargeable(r: ChargeableRow): ChargeableAccount {
  return {
    id: Number(r.id),
    name: r.name,
    code: r.code,
    pin: r.pin,
    enabled: Boolean(r.enabled),
    archived: Boolean(r.archived),
    startsAt: r.starts_at === null ? null : Number(r.starts_at),
    expiresAt: r.expires_at === null ? null : Number(r.expires_at),
    multiplierBp: r.cost_multiplier_bp,
    allocationLimit: r.allocation_model === 'per_user' ? ((r.allocation_limit ?? 'unlimited') as AllocationLimit) : null,
  };
}

/** Why no new job may charge the account now, or undefined when one may. */
export function unusableBecause(a: ChargeableAccount, now: number): string | undefined {
  if (a.archived) return `account ${a.name} is archived`;
  if (!a.enabled) return `account ${a.name} is disabled`;
  if (a.startsAt !== null && now < a.startsAt) return `account ${a.name} is not open yet`;
  if (a.expiresAt !== null && now >= a.expiresAt) return `account ${a.name} has expired`;
  return undefined;
}

/** Shared accounts in the order the default rule reads them: by name, case folded. */
export function byName(a: ChargeableAccount, b: ChargeableAccount): number {
  const [x, y] = [nameKey(a.name), nameKey(b.name)];
  return x < y ? -1 : x > y ? 1 : a.id - b.id;
}

/** What the rule needs for a batch's users and the codes their jobs name. */
export interface ChargeContext {
  byCode: Map<string, ChargeableAccount>;
  /** Every shared account each user has access to, usable or not, by account id. */
  access: Map<number, Map<number, ChargeableAccount>>;
  /** The account each user chose (absent: the default rule). */
  active: Map<number, number>;
}

const marks = (n: number): string => Array.from({ length: n }, () => '?').join(',');

/** Reads the context for these users and codes; one query when the site has no shared accounts. */
export async function loadChargeContext(q: SqlReader, userIds: readonly number[], codes: readonly string[]): Promise<ChargeContext> {
  const ctx: ChargeContext = { byCode: new Map(), access: new Map(), active: new Map() };
  const any = await q.get<{ id: number }>("SELECT id FROM accounts WHERE type = 'shared' LIMIT 1", []);
  if (!any) return ctx; // no shared account: every job charges its user's personal account
  const add = (userId: number, account: ChargeableAccount): void => {
    const found = ctx.access.get(userId);
    if (!found) ctx.access.set(userId, new Map([[account.id, account]]));
    else if (!found.has(account.id)) found.set(account.id, account);
  };
  for (let i = 0; i < codes.length; i += 500) {
    const chunk = codes.slice(i, i + 500);
    const rows = await q.all<ChargeableRow>(`SELECT ${COLUMNS} FROM accounts a WHERE a.type = 'shared' AND a.code IN (${marks(chunk.length)})`, chunk);
    for (const r of rows) if (r.code !== null) ctx.byCode.set(r.code, toChargeable(r));
  }
  const everyone = (await q.all<ChargeableRow>(`SELECT ${COLUMNS} FROM accounts a WHERE a.type = 'shared' AND a.everyone = 1`, [])).map(toChargeable);
  for (let i = 0; i < userIds.length; i += 500) {
    const chunk = userIds.slice(i, i + 500);
    for (const userId of chunk) for (const a of everyone) add(userId, a);
    // Listed and through a group in one statement; an account both ways is kept once by add().
    const granted = await q.all<ChargeableRow & { user_id: number }>(
      `SELECT au.user_id, ${COLUMNS} FROM account_users au JOIN accounts a ON a.id = au.account_id WHERE au.user_id IN (${marks(chunk.length)})
       UNION ALL
       SELECT gm.user_id, ${COLUMNS} FROM group_members gm JOIN account_groups ag ON ag.group_id = gm.group_id JOIN accounts a ON a.id = ag.account_id
        WHERE gm.user_id IN (${marks(chunk.length)})`,
      [...chunk, ...chunk],
    );
    for (const r of granted) add(Number(r.user_id), toChargeable(r));
    const chosen = await q.all<{ user_id: number; account_id: number }>(
      `SELECT user_id, account_id FROM user_active_accounts WHERE user_id IN (${marks(chunk.length)})`,
      chunk,
    );
    for (const r of chosen) ctx.active.set(Number(r.user_id), Number(r.account_id));
  }
  return ctx;
}

/** The account a job charges: its id and cost multiplier (and the shared account, when it is one), or why it may not print. */
export type AccountChoice = { accountId: number; multiplierBp: number; shared: ChargeableAccount | undefined } | { denied: string };

export interface ChoiceInput {
  userId: number;
  personal: { accountId: number; multiplierBp: number };
  /** The job's account option as it came (`''` when none). */
  requested: string;
  now: number;
}

export function chooseAccount(ctx: ChargeContext, input: ChoiceInput): AccountChoice {
  const personal: AccountChoice = { ...input.personal, shared: undefined };
  const access = ctx.access.get(input.userId);
  const shared = (a: ChargeableAccount): AccountChoice => ({ accountId: a.id, multiplierBp: a.multiplierBp, shared: a });
  if (input.requested.trim() !== '') {
    const { code, pin } = parseJobAccount(input.requested);
    const account = ctx.byCode.get(code);
    if (!account) return { denied: `no account has the code ${code}` };
    if (!access?.has(account.id)) return { denied: `you may not charge account ${code}` };
    const unusable = unusableBecause(account, input.now);
    if (unusable !== undefined) return { denied: unusable };
    if (account.pin !== null && pin === undefined) return { denied: `account ${code} needs its PIN: print with job-account-id=${code}-PIN` };
    if (account.pin !== null && pin !== account.pin) return { denied: `wrong PIN for account ${code}` };
    return shared(account);
  }
  const chosen = ctx.active.get(input.userId);
  if (chosen === input.personal.accountId) return personal;
  // The chosen account while usable, else the first usable by name: one pass, no sort per job.
  let first: ChargeableAccount | undefined;
  for (const a of access?.values() ?? []) {
    if (unusableBecause(a, input.now) !== undefined) continue;
    if (a.id === chosen) return shared(a);
    if (!first || byName(a, first) < 0) first = a;
  }
  return first ? shared(first) : personal;
}
