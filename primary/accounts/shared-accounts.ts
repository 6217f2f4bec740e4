/**
 * Shared accounts (docs/accounts.md): create, change, archive, access lists, search, and
 * the accounts a user may charge with their active account. Each change writes one audit row in
 * the same transaction (`account.*`). Balances change only through the ledger (the charge path,
 * and BalanceChanges for administrators); this service never writes a balance.
 */
import type { Knex } from 'knex';
import { AlreadyExistsError, NotFoundError, ValidationError } from '../../common/errors';
import { MAX_AMOUNT, type Money } from '../../common/money';
import { recordAudit } from '../audit/audit-log';
import type { Database } from '../db/connection';
import { isUniqueViolation } from '../db/errors';
import { runKnexTransaction, runReads } from '../db/sql-runner';
import { toAccount } from '../ledger/postings';
import type { Account } from '../ledger/types';
import type { UserService } from '../users/user-service';
import { byName, chooseAccount, loadChargeContext, unusableBecause, type ChargeableAccount } from './account-choice';
import { NAME_MAX, NAME_SEPARATOR, nameKey, parseAccountName, parentName, parseCode, parsePin } from './account-names';

export interface SharedAccount {
  id: number;
  name: string;
  /** The parent's full name for `parent\sub`, or null at the top level. */
  parent: string | null;
  code: string | null;
  pin: string | null;
  balance: Money;
  reserved: Money;
  restricted: boolean;
  creditLimit: Money;
  multiplierBp: number;
  enabled: boolean;
  archived: boolean;
  startsAt: number | null;
  expiresAt: number | null;
  notes: string;
  everyone: boolean;
}

export interface AccountAccess {
  everyone: boolean;
  users: string[];
  groups: string[];
}

/** What an administrator may set on a shared account (all but the name). */
export interface AccountSettings {
  code?: string | null;
  pin?: string | null;
  restricted?: boolean;
  creditLimit?: Money;
  multiplierBp?: number;
  enabled?: boolean;
  startsAt?: number | null;
  expiresAt?: number | null;
  notes?: string;
}

/** Whom access is granted to: a user, a group, or everyone (a global account). */
export type Grantee = { user: string } | { group: string } | { everyone: true };

/** An account a user may charge, as the user's accounts list shows it. */
export interface ChargeableEntry {
  id: number;
  type: 'personal' | 'shared';
  name: string;
  code: string | null;
}

interface AccountRow {
  id: number;
  name: string;
  parent_id: number | null;
  code: string | null;
  pin: string | null;
  balance: number | string;
  reserved: number | string;
  restricted: number | boolean;
  credit_limit: number | string | null;
  cost_multiplier_bp: number;
  enabled: number | boolean;
  archived: number | boolean;
  starts_at: number | string | null;
  expires_at: number | string | null;
  notes: string;
  everyone: number | boolean;
}

const MULTIPLIER_MAX_BP = 1_000_000;

function toShared(r: AccountRow): SharedAccount {
  return {
    id: r.id,
    name: r.name,
    parent: parentName(r.name) ?? null,
    code: r.code,
    pin: r.pin,
    balance: Number(r.balance),
    reserved: Number(r.reserved),
    restricted: Boolean(r.restricted),
    creditLimit: Number(r.credit_limit ?? 0),
    multiplierBp: r.cost_multiplier_bp,
    enabled: Boolean(r.enabled),
    archived: Boolean(r.archived),
    startsAt: r.starts_at === null ? null : Number(r.starts_at),
    expiresAt: r.expires_at === null ? null : Number(r.expires_at),
    notes: r.notes,
    everyone: Boolean(r.everyone),
  };
}

export class SharedAccounts {
  private readonly db: Database;
  private readonly users: UserService;
  private readonly now: () => number;
  /** The primary's time zone (config `timezone`): account start and expiry days are its days (parseDay). */
  readonly timezone: string;

  constructor(deps: { db: Database; users: UserService; now?: () => number; timezone?: string }) {
    this.db = deps.db;
    this.users = deps.users;
    this.now = deps.now ?? Date.now;
    this.timezone = deps.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  }

  /**
   * Creates a shared account. A name `parent\sub` needs its parent to exist already (each level
   * is an account of its own, created top-down); names are unique case-insensitively, codes too.
   * New shared accounts are unrestricted (like PaperCut's), credit limit 0, multiplier 1.
   */
  async create(
    input: { name: string } & AccountSettings,
    actor: string,
    /** More to write in the same transaction (an allocation account's model and schedule). */
    also?: (trx: Knex.Transaction, accountId: number, name: string) => Promise<void>,
  ): Promise<SharedAccount> {
    const name = parseAccountName(input.name);
    try {
      await runKnexTransaction(this.db, async (trx) => {
        const accountId = await this.createWithin(trx, input, actor);
        if (also) await also(trx, accountId, name);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new AlreadyExistsError('account', name);
      throw err;
    }
    return this.get(name);
  }

  /** create() inside the caller's transaction (the CSV import makes many accounts in one); returns the new id. */
  async createWithin(trx: Knex.Transaction, input: { name: string } & AccountSettings, actor: string): Promise<number> {
    const name = parseAccountName(input.name);
    const now = this.now();
    const settings = this.checkSettings(input, now);
    if (
      await trx('accounts')
        .where({ name_key: nameKey(name) })
        .first('id')
    )
      throw new AlreadyExistsError('account', name);
    await this.ensureCodeFree(trx, settings.code ?? null);
    const parentId = await this.parentIdOf(trx, name);
    const [id] = await trx('accounts').insert({
      type: 'shared',
      name,
      name_key: nameKey(name),
      parent_id: parentId,
      code: settings.code ?? null,
      pin: settings.pin ?? null,
      restricted: settings.restricted ?? false,
      credit_limit: settings.creditLimit ?? 0,
      cost_multiplier_bp: settings.multiplierBp ?? 10000,
      enabled: settings.enabled ?? true,
      starts_at: settings.startsAt ?? null,
      expires_at: settings.expiresAt ?? null,
      notes: settings.notes ?? '',
      created_at: now,
      updated_at: now,
    });
    await recordAudit(trx, { actor, action: 'account.create', targetType: 'account', targetId: name, details: auditable(settings) }, now);
    return Number(id);
  }

  /** Changes an account's settings (one audit row with what changed). */
  async update(rawName: string, changes: AccountSettings, actor: string): Promise<SharedAccount> {
    const now = this.now();
    const settings = this.checkSettings(changes, now);
    if (Object.keys(settings).length === 0) throw new ValidationError('nothing to change');
    const account = await this.get(rawName);
    const startsAt = settings.startsAt === undefined ? account.startsAt : settings.startsAt;
    const expiresAt = settings.expiresAt === undefined ? account.expiresAt : settings.expiresAt;
    if (startsAt !== null && expiresAt !== null && expiresAt <= startsAt)
      throw new ValidationError('the account must expire after it starts', { field: 'expires' });
    try {
      await runKnexTransaction(this.db, async (trx) => {
        if (typeof settings.code === 'string' && settings.code !== account.code) await this.ensureCodeFree(trx, settings.code);
        await trx('accounts')
          .where({ id: account.id })
          .update({
            ...(settings.code !== undefined && { code: settings.code }),
            ...(settings.pin !== undefined && { pin: settings.pin }),
            ...(settings.restricted !== undefined && { restricted: settings.restricted }),
            ...(settings.creditLimit !== undefined && { credit_limit: settings.creditLimit }),
            ...(settings.multiplierBp !== undefined && { cost_multiplier_bp: settings.multiplierBp }),
            ...(settings.enabled !== undefined && { enabled: settings.enabled }),
            ...(settings.startsAt !== undefined && { starts_at: settings.startsAt }),
            ...(settings.expiresAt !== undefined && { expires_at: settings.expiresAt }),
            ...(settings.notes !== undefined && { notes: settings.notes }),
            updated_at: now,
          });
        await recordAudit(trx, { actor, action: 'account.update', targetType: 'account', targetId: account.name, details: auditable(settings) }, now);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new AlreadyExistsError('account code', settings.code ?? '');
      throw err;
    }
    return this.get(account.name);
  }

  /** Archives an account: kept with its ledger for reports, refused for new jobs; what is held still settles. */
  async archive(rawName: string, actor: string): Promise<SharedAccount> {
    const account = await this.get(rawName);
    if (account.archived) throw new ValidationError(`account ${account.name} is already archived`);
    await runKnexTransaction(this.db, async (trx) => {
      const now = this.now();
      await trx('accounts').where({ id: account.id }).update({ archived: true, updated_at: now });
      await recordAudit(trx, { actor, action: 'account.archive', targetType: 'account', targetId: account.name }, now);
    });
    return this.get(account.name);
  }

  async grant(rawName: string, to: Grantee, actor: string): Promise<AccountAccess> {
    return this.changeAccess(rawName, to, 'grant', actor);
  }

  async revoke(rawName: string, from: Grantee, actor: string): Promise<AccountAccess> {
    return this.changeAccess(rawName, from, 'revoke', actor);
  }

  /** A shared account by its name, compared case-insensitively. */
  async get(rawName: string): Promise<SharedAccount> {
    const name = rawName.trim();
    const row = (await this.db
      .knex('accounts')
      .where({ type: 'shared', name_key: nameKey(name) })
      .first()) as AccountRow | undefined;
    if (!row) throw new NotFoundError('account', name);
    return toShared(row);
  }

  /** Shared accounts by name; `search` matches name, code and notes; archived ones only when asked. */
  async list(query: { search?: string; includeArchived?: boolean } = {}): Promise<SharedAccount[]> {
    const q = this.db.knex('accounts').where({ type: 'shared' }).orderBy('name_key');
    if (!query.includeArchived) q.where({ archived: false });
    const search = query.search?.trim();
    if (search) {
      const like = `%${nameKey(search).replace(/[!%_]/g, (c) => `!${c}`)}%`;
      q.where((w) => {
        void w
          .whereRaw("name_key LIKE ? ESCAPE '!'", [like])
          .orWhereRaw("LOWER(code) LIKE ? ESCAPE '!'", [like])
          .orWhereRaw("LOWER(notes) LIKE ? ESCAPE '!'", [like]);
      });
    }
    return ((await q) as AccountRow[]).map(toShared);
  }

  async access(rawName: string): Promise<AccountAccess> {
    const account = await this.get(rawName);
    return this.accessOf(this.db.knex, account.id, account.everyone);
  }

  /** The accounts a user may charge now: their personal account, then the usable shared ones by name. */
  async chargeable(username: string): Promise<ChargeableEntry[]> {
    return (await this.chargeableWithActive(username)).entries;
  }

  /** The account the user's next job without an account option charges, and whether the user chose it. */
  async active(username: string): Promise<ChargeableEntry & { chosen: boolean }> {
    return (await this.chargeableWithActive(username)).active;
  }

  /**
   * What chargeable() and active() answer, from one read of the user and their charge context
   * (the accounts page shows both).
   */
  async chargeableWithActive(username: string): Promise<{ entries: ChargeableEntry[]; active: ChargeableEntry & { chosen: boolean } }> {
    const user = await this.users.getByUsername(username);
    const personal = await this.users.personalAccount(user.id);
    const ctx = await runReads(this.db, (q) => loadChargeContext(q, [user.id], []));
    const now = this.now();
    const personalEntry: ChargeableEntry = { id: personal.id, type: 'personal', name: personal.name, code: null };
    const shared = [...(ctx.access.get(user.id)?.values() ?? [])].filter((a) => unusableBecause(a, now) === undefined).sort(byName);
    const choice = chooseAccount(ctx, {
      userId: user.id,
      personal: { accountId: personal.id, multiplierBp: personal.costMultiplierBp },
      requested: '',
      now,
    });
    const chosen = ctx.active.get(user.id) === ('accountId' in choice ? choice.accountId : undefined);
    const active = 'denied' in choice || choice.shared === undefined ? { ...personalEntry, chosen } : { ...sharedEntry(choice.shared), chosen };
    return { entries: [personalEntry, ...shared.map((a) => sharedEntry(a))], active };
  }

  /** Who may charge each of these accounts, by account id: two queries per 500 accounts however many there are. */
  async accessOfMany(accounts: readonly Pick<SharedAccount, 'id' | 'everyone'>[]): Promise<Map<number, AccountAccess>> {
    const found = new Map<number, AccountAccess>(accounts.map((a) => [a.id, { everyone: a.everyone, users: [], groups: [] }]));
    const ids = [...found.keys()];
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const users = (await this.db
        .knex('account_users')
        .join('users', 'users.id', 'account_users.user_id')
        .whereIn('account_id', chunk)
        .orderBy('users.username')
        .select('account_users.account_id', 'users.username')) as { account_id: number; username: string }[];
      for (const r of users) found.get(Number(r.account_id))?.users.push(r.username);
      const groups = (await this.db
        .knex('account_groups')
        .join('groups', 'groups.id', 'account_groups.group_id')
        .whereIn('account_id', chunk)
        .orderBy('groups.name')
        .select('account_groups.account_id', 'groups.name')) as { account_id: number; name: string }[];
      for (const r of groups) found.get(Number(r.account_id))?.groups.push(r.name);
    }
    return found;
  }

  /**
   * These accounts' rows as the ledger reads them, and whether each is a per-user allocation
   * account, by id: one query per 500 accounts (the accounts page's balances).
   */
  async standing(ids: readonly number[]): Promise<Map<number, { account: Account; allocation: boolean }>> {
    const found = new Map<number, { account: Account; allocation: boolean }>();
    for (let i = 0; i < ids.length; i += 500) {
      const rows = (await this.db.knex('accounts').whereIn('id', ids.slice(i, i + 500))) as (Parameters<typeof toAccount>[0] & { allocation_model: string })[];
      for (const r of rows) found.set(Number(r.id), { account: toAccount(r), allocation: r.type === 'shared' && r.allocation_model === 'per_user' });
    }
    return found;
  }

  /** Sets the user's active account: `personal`, or a shared account they may charge now (by name). */
  async setActive(username: string, accountName: string, actor: string): Promise<ChargeableEntry> {
    const user = await this.users.getByUsername(username);
    const options = await this.chargeable(user.username);
    const wanted =
      accountName.trim().toLowerCase() === 'personal'
        ? options[0]
        : options.find((o) => o.type === 'shared' && nameKey(o.name) === nameKey(accountName.trim()));
    if (!wanted) throw new ValidationError(`${user.username} may not charge account ${accountName.trim()}`, { field: 'account' });
    await runKnexTransaction(this.db, async (trx) => {
      const now = this.now();
      await trx('user_active_accounts').where({ user_id: user.id }).delete();
      await trx('user_active_accounts').insert({ user_id: user.id, account_id: wanted.id, chosen_at: now });
      await recordAudit(
        trx,
        { actor, action: 'account.active', targetType: 'user', targetId: user.username, details: { account: wanted.name, accountId: wanted.id } },
        now,
      );
    });
    return wanted;
  }

  // ---- internals ----

  /** The settings checked; an expiry must be in the future (`now`) and after the start. */
  private checkSettings(input: AccountSettings, now: number): AccountSettings {
    const out: AccountSettings = {};
    if (input.code !== undefined) out.code = input.code === null || input.code === '' ? null : parseCode(input.code);
    if (input.pin !== undefined) out.pin = input.pin === null || input.pin === '' ? null : parsePin(input.pin);
    if (input.restricted !== undefined) out.restricted = input.restricted;
    if (input.creditLimit !== undefined) {
      if (!Number.isSafeInteger(input.creditLimit) || input.creditLimit < 0 || input.creditLimit > MAX_AMOUNT)
        throw new ValidationError('credit limit must be a whole amount of at least 0', { field: 'creditLimit' });
      out.creditLimit = input.creditLimit;
    }
    if (input.multiplierBp !== undefined) {
      if (!Number.isSafeInteger(input.multiplierBp) || input.multiplierBp < 0 || input.multiplierBp > MULTIPLIER_MAX_BP)
        throw new ValidationError('multiplier must be between 0 and 100', { field: 'multiplier' });
      out.multiplierBp = input.multiplierBp;
    }
    if (input.enabled !== undefined) out.enabled = input.enabled;
    if (input.startsAt !== undefined) out.startsAt = input.startsAt;
    if (input.expiresAt !== undefined) out.expiresAt = input.expiresAt;
    if (typeof input.expiresAt === 'number' && input.expiresAt <= now) throw new ValidationError('the expiry date is in the past', { field: 'expires' });
    if (typeof input.startsAt === 'number' && typeof input.expiresAt === 'number' && input.expiresAt <= input.startsAt)
      throw new ValidationError('the account must expire after it starts', { field: 'expires' });
    if (input.notes !== undefined) {
      if (input.notes.length > 2000) throw new ValidationError('notes are longer than 2000 characters', { field: 'notes' });
      out.notes = input.notes;
    }
    return out;
  }

  private async ensureCodeFree(trx: Knex.Transaction, code: string | null): Promise<void> {
    if (code !== null && (await trx('accounts').where({ code }).first('id'))) throw new AlreadyExistsError('account code', code);
  }

  private async changeAccess(rawName: string, who: Grantee, change: 'grant' | 'revoke', actor: string): Promise<AccountAccess> {
    const account = await this.get(rawName);
    const user = 'user' in who ? await this.users.getByUsername(who.user) : undefined;
    return runKnexTransaction(this.db, async (trx) => {
      const target = user ? { userId: user.id, username: user.username } : (who as { group: string } | { everyone: true });
      await this.changeAccessWithin(trx, account, target, change, actor);
      const everyone = 'everyone' in who ? change === 'grant' : account.everyone;
      return this.accessOf(trx, account.id, everyone);
    });
  }

  /**
   * Grants or revokes access inside the caller's transaction, with its audit row; the user is
   * given already looked up (the CSV import looks its users up before its transaction).
   */
  async changeAccessWithin(
    trx: Knex.Transaction,
    account: { id: number; name: string },
    who: { userId: number; username: string } | { group: string } | { everyone: true },
    change: 'grant' | 'revoke',
    actor: string,
  ): Promise<void> {
    const now = this.now();
    let target: string;
    if ('everyone' in who) {
      await trx('accounts')
        .where({ id: account.id })
        .update({ everyone: change === 'grant', updated_at: now });
      target = 'everyone';
    } else if ('userId' in who) {
      const row = { account_id: account.id, user_id: who.userId };
      if (change === 'revoke') await trx('account_users').where(row).delete();
      else if (!(await trx('account_users').where(row).first('user_id'))) await trx('account_users').insert({ ...row, created_at: now });
      target = `user ${who.username}`;
    } else {
      const group = (await trx('groups').where({ name: who.group.trim() }).first('id', 'name')) as { id: number; name: string } | undefined;
      if (!group) throw new NotFoundError('group', who.group.trim());
      const row = { account_id: account.id, group_id: group.id };
      if (change === 'revoke') await trx('account_groups').where(row).delete();
      else if (!(await trx('account_groups').where(row).first('group_id'))) await trx('account_groups').insert({ ...row, created_at: now });
      target = `group ${group.name}`;
    }
    await recordAudit(trx, { actor, action: `account.${change}`, targetType: 'account', targetId: account.name, details: { to: target } }, now);
  }

  private async accessOf(k: Knex | Knex.Transaction, accountId: number, everyone: boolean): Promise<AccountAccess> {
    const users = (await k('account_users')
      .join('users', 'users.id', 'account_users.user_id')
      .where({ account_id: accountId })
      .orderBy('users.username')
      .pluck('users.username')) as string[];
    const groups = (await k('account_groups')
      .join('groups', 'groups.id', 'account_groups.group_id')
      .where({ account_id: accountId })
      .orderBy('groups.name')
      .pluck('groups.name')) as string[];
    return { everyone, users, groups };
  }

  /**
   * Renames a shared account, or moves it in the hierarchy (`Physics` to `Science\Physics`):
   * its sub-accounts follow (`Physics\Lab` becomes `Science\Physics\Lab`). The new parent must
   * exist and must not be the account or one of its sub-accounts; no new name may collide with
   * another account's after case folding or pass 255 characters. Jobs, ledger rows, schedules and
   * active choices keep the account by id. One `account.rename` audit row.
   */
  async rename(rawName: string, rawNewName: string, actor: string): Promise<SharedAccount> {
    const account = await this.get(rawName);
    const name = parseAccountName(rawNewName);
    if (name === account.name) throw new ValidationError(`account ${account.name} already has that name`, { field: 'name' });
    const oldPrefix = nameKey(account.name + NAME_SEPARATOR);
    const parent = parentName(name);
    if (parent !== undefined && (nameKey(parent) === nameKey(account.name) || nameKey(parent).startsWith(oldPrefix)))
      throw new ValidationError(`account ${account.name} cannot be moved under itself (${parent})`, { field: 'name' });
    const renamed = await runKnexTransaction(this.db, async (trx) => {
      const now = this.now();
      const parentId = await this.parentIdOf(trx, name);
      const subs = (await trx('accounts')
        .where({ type: 'shared' })
        .whereRaw("name_key LIKE ? ESCAPE '!'", [`${oldPrefix.replace(/[!%_]/g, (c) => `!${c}`)}%`])
        .orderBy('name_key')
        .select('id', 'name')) as { id: number; name: string }[];
      const moves = [{ id: account.id, name }, ...subs.map((sub) => ({ id: sub.id, name: name + sub.name.slice(account.name.length) }))];
      for (const move of moves) {
        if (move.name.length > NAME_MAX) throw new ValidationError(`name ${move.name} is longer than ${NAME_MAX} characters`, { field: 'name' });
        const taken = (await trx('accounts')
          .where({ name_key: nameKey(move.name) })
          .whereNotIn(
            'id',
            moves.map((m) => m.id),
          )
          .first('name')) as { name: string } | undefined;
        if (taken) throw new AlreadyExistsError('account', taken.name);
      }
      for (const move of moves)
        await trx('accounts')
          .where({ id: move.id })
          .update({ name: move.name, name_key: nameKey(move.name), updated_at: now, ...(move.id === account.id && { parent_id: parentId }) });
      const details = { from: account.name, to: name, subAccounts: subs.length };
      await recordAudit(trx, { actor, action: 'account.rename', targetType: 'account', targetId: name, details }, now);
      return name;
    });
    return this.get(renamed);
  }

  /** The id of the account a name `parent\sub` goes under (which must exist), or null at the top level. */
  private async parentIdOf(trx: Knex.Transaction, name: string): Promise<number | null> {
    const parent = parentName(name);
    if (parent === undefined) return null;
    const row = (await trx('accounts')
      .where({ name_key: nameKey(parent), type: 'shared' })
      .first('id')) as { id: number } | undefined;
    if (!row) throw new NotFoundError('parent account', parent);
    return row.id;
  }
}

function sharedEntry(a: ChargeableAccount): ChargeableEntry {
  return { id: a.id, type: 'shared', name: a.name, code: a.code };
}

/** The settings as the audit log keeps them: the PIN only as whether one is set. */
function auditable(s: AccountSettings): Record<string, unknown> {
  const { pin, ...rest } = s;
  return pin === undefined ? rest : { ...rest, pin: pin === null ? 'removed' : 'set' };
}
