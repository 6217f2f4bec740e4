/**
 * Users: creation (with their personal account, group memberships, cards and the groups'
 * new-user rules), look-up by name, id or card, search, and changes to their details and
 * account settings. Usernames are case-insensitive: stored trimmed and in lower case.
 */
import type { Knex } from 'knex';
import { z } from 'zod';
import type { Database } from '../db/connection';
import { isUniqueViolation } from '../db/errors';
import { runKnexTransaction, touchAccounts } from '../db/sql-runner';
import { recordAudit } from '../audit/audit-log';
import { AlreadyExistsError, NotFoundError, ValidationError } from '../../common/errors';
import { MAX_AMOUNT, type Money } from '../../common/money';
import type { LedgerService } from '../ledger/ledger-service';
import { toAccount } from '../ledger/ledger-service';
import type { Account } from '../ledger/types';
import { groupList, type SettingsService } from '../settings/settings-service';
import { LANGUAGES, type Language } from './languages';
import { hashPassword } from './passwords';

export interface User {
  id: number;
  username: string;
  fullName: string;
  email: string;
  department: string;
  office: string;
  source: 'local' | 'directory';
  disabled: boolean;
  isAdmin: boolean;
  /** The web tools' language this user chose, or null: the browser's languages decide. */
  language: Language | null;
  createdAt: number;
}

export interface UserDetail extends User {
  account: Account;
  /** The credit limit in force: the account's own or the site default. */
  effectiveCreditLimit: Money;
  groups: string[];
  cards: string[];
}

interface UserRow {
  id: number;
  username: string;
  full_name: string;
  email: string;
  department: string;
  office: string;
  source: 'local' | 'directory';
  disabled: number | boolean;
  is_admin: number | boolean;
  password_hash: string | null;
  language: string | null;
  created_at: number | string;
}

function toUser(row: UserRow): User {
  return {
    id: row.id,
    username: row.username,
    fullName: row.full_name,
    email: row.email,
    department: row.department,
    office: row.office,
    source: row.source,
    disabled: Boolean(row.disabled),
    isAdmin: Boolean(row.is_admin),
    language: (LANGUAGES as readonly (string | null)[]).includes(row.language) ? (row.language as Language) : null,
    createdAt: Number(row.created_at),
  };
}

// Printable characters only: no control characters, no leading/trailing space after trimming.
const NAME_PATTERN = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+$/u;

export function normaliseUsername(raw: string): string {
  const username = raw.trim().normalize('NFC').toLowerCase();
  if (username.length === 0) throw new ValidationError('username must not be empty', { field: 'username' });
  if (username.length > 128) throw new ValidationError('username is longer than 128 characters', { field: 'username' });
  if (!NAME_PATTERN.test(username)) throw new ValidationError('username contains control characters', { field: 'username' });
  return username;
}

const text = (max: number) => z.string().max(max).regex(NAME_PATTERN, 'contains control characters').or(z.literal(''));
const moneyField = z.number().int('must be a whole number of minor units').min(0, 'must not be negative').max(MAX_AMOUNT, 'is out of range');

export const newUserSchema = z.object({
  username: z.string(),
  fullName: text(255).optional(),
  email: z
    .string()
    .max(255)
    .regex(/^$|^[^\s@]+@[^\s@]+$/, 'is not an email address')
    .optional(),
  department: text(255).optional(),
  office: text(255).optional(),
  cards: z.array(z.string().trim().min(1).max(128).regex(NAME_PATTERN)).max(10).optional(),
  groups: z.array(z.string().trim().min(1).max(128)).max(100).optional(),
  password: z.string().min(8, 'must be at least 8 characters').max(1024).optional(),
  isAdmin: z.boolean().optional(),
  source: z.enum(['local', 'directory']).optional(),
  restricted: z.boolean().optional(),
  creditLimit: moneyField.optional(),
  initialCredit: moneyField.optional(),
});
export type NewUser = z.input<typeof newUserSchema>;

export const userChangesSchema = z
  .object({
    fullName: text(255),
    email: z
      .string()
      .max(255)
      .regex(/^$|^[^\s@]+@[^\s@]+$/, 'is not an email address'),
    department: text(255),
    office: text(255),
    disabled: z.boolean(),
    isAdmin: z.boolean(),
    password: z.string().min(8, 'must be at least 8 characters').max(1024),
    restricted: z.boolean(),
    /** null returns the account to the site default. */
    creditLimit: moneyField.nullable(),
    costMultiplierBp: z.number().int().min(0).max(1_000_000),
    /** null: the browser's languages choose. */
    language: z.enum(LANGUAGES).nullable(),
  })
  .partial();
export type UserChanges = z.input<typeof userChangesSchema>;

function parse<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const result = schema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue?.path.join('.') ?? '';
    throw new ValidationError(`${field ? `${field} ` : ''}${issue?.message ?? 'is invalid'}`, { field });
  }
  return result.data;
}

export interface UserQuery {
  search?: string;
  group?: string;
  limit?: number;
  offset?: number;
  /** Only usernames after this one (keyset paging: the REST API's cursor). */
  after?: string;
}

export class UserService {
  private readonly db: Database;
  private readonly ledger: LedgerService;
  private readonly settings: SettingsService;
  private readonly now: () => number;

  constructor(deps: { db: Database; ledger: LedgerService; settings: SettingsService; now?: () => number }) {
    this.db = deps.db;
    this.ledger = deps.ledger;
    this.settings = deps.settings;
    this.now = deps.now ?? Date.now;
  }

  /**
   * Creates a user, their personal account and memberships in one transaction. Explicit
   * restricted/creditLimit/initialCredit win; otherwise the groups' new-user rules apply
   * (initial credit: the site default plus the sum over the groups; restricted: unless any group
   * says unrestricted; credit limit: the largest a group gives), then the site defaults.
   */
  async createUser(input: NewUser, actor = 'system'): Promise<UserDetail> {
    const data = parse(newUserSchema, input);
    const username = normaliseUsername(data.username);
    const passwordHash = data.password ? await hashPassword(data.password) : null;
    const siteRestricted = await this.settings.get('users.newUserRestricted');
    const siteCredit = await this.settings.get('users.newUserInitialCredit');
    try {
      const userId = await runKnexTransaction(this.db, async (trx) => {
        const groups = await this.groupsByName(trx, data.groups ?? []);
        const now = this.now();
        const [id] = await trx('users').insert({
          username,
          full_name: data.fullName ?? '',
          email: data.email ?? '',
          department: data.department ?? '',
          office: data.office ?? '',
          source: data.source ?? 'local',
          disabled: false,
          is_admin: data.isAdmin ?? false,
          password_hash: passwordHash,
          created_at: now,
          updated_at: now,
        });
        const userId = Number(id);
        for (const number of data.cards ?? []) await trx('user_cards').insert({ user_id: userId, number, created_at: now });
        for (const g of groups) await trx('group_members').insert({ group_id: g.id, user_id: userId, created_at: now });

        const ruled = groups.filter((g) => g.initial_restricted !== null);
        const restricted = data.restricted ?? (ruled.length > 0 ? ruled.every((g) => Boolean(g.initial_restricted)) : siteRestricted);
        const limits = groups
          .map((g) => g.initial_credit_limit)
          .filter((l): l is number | string => l !== null)
          .map(Number);
        const creditLimit = data.creditLimit ?? (limits.length > 0 ? Math.max(...limits) : null);
        const initialCredit = data.initialCredit ?? siteCredit + groups.reduce((sum, g) => sum + Number(g.initial_credit), 0);

        const [accountId] = await trx('accounts').insert({
          type: 'personal',
          user_id: userId,
          name: username,
          balance: 0,
          reserved: 0,
          restricted,
          credit_limit: creditLimit,
          created_at: now,
          updated_at: now,
        });
        // A new restricted account may be blocked from the start: announced once this commits.
        touchAccounts(trx, [Number(accountId)]);
        if (initialCredit > 0) {
          await this.ledger.postWithin(trx, {
            accountId: Number(accountId),
            amount: initialCredit,
            type: 'initial',
            key: `initial:user:${userId}`,
            actor,
            comment: 'initial credit for a new user',
          });
        }
        await recordAudit(trx, { actor, action: 'user.create', targetType: 'user', targetId: username, details: { groups: data.groups ?? [] } }, now);
        return userId;
      });
      return await this.detail(userId);
    } catch (err) {
      if (isUniqueViolation(err, 'user_cards')) throw new AlreadyExistsError('card number', (data.cards ?? []).join(', '));
      if (isUniqueViolation(err)) throw new AlreadyExistsError('user', username);
      throw err;
    }
  }

  /**
   * Creates a user the first time usage arrives for them (a print job; internet usage when the
   * site says so): in the groups of the `users.onDemandGroups` setting, so those groups'
   * new-user rules (initial credit, restricted, overdraft) and quota schedules apply. A listed
   * group removed since is left out rather than refusing the user. Throws AlreadyExistsError if
   * the user was created meanwhile.
   */
  async createOnDemand(username: string, actor: string): Promise<UserDetail> {
    const wanted = groupList(await this.settings.get('users.onDemandGroups'));
    const groups = wanted.length === 0 ? [] : ((await this.db.knex('groups').whereIn('name', wanted).orderBy('name').pluck('name')) as string[]);
    return this.createUser({ username, groups }, actor);
  }

  async findByUsername(raw: string): Promise<User | undefined> {
    const row = (await this.db
      .knex('users')
      .where({ username: normaliseUsername(raw) })
      .first()) as UserRow | undefined;
    return row ? toUser(row) : undefined;
  }

  async getByUsername(raw: string): Promise<User> {
    const user = await this.findByUsername(raw);
    if (!user) throw new NotFoundError('user', raw.trim());
    return user;
  }

  async findByCard(number: string): Promise<User | undefined> {
    const row = (await this.db
      .knex('users')
      .join('user_cards', 'user_cards.user_id', 'users.id')
      .where('user_cards.number', number.trim())
      .first('users.*')) as UserRow | undefined;
    return row ? toUser(row) : undefined;
  }

  /** The stored password hash, for sign-in. */
  async passwordHashOf(userId: number): Promise<string | null> {
    const row = (await this.db.knex('users').where({ id: userId }).first('password_hash')) as { password_hash: string | null } | undefined;
    return row?.password_hash ?? null;
  }

  async personalAccount(userId: number): Promise<Account> {
    const row = await this.db.knex('accounts').where({ user_id: userId, type: 'personal' }).first();
    if (!row) throw new NotFoundError('personal account of user', userId);
    return toAccount(row);
  }

  async detail(userId: number): Promise<UserDetail> {
    const row = (await this.db.knex('users').where({ id: userId }).first()) as UserRow | undefined;
    if (!row) throw new NotFoundError('user', userId);
    const account = await this.personalAccount(userId);
    const groups = (await this.db
      .knex('groups')
      .join('group_members', 'group_members.group_id', 'groups.id')
      .where('group_members.user_id', userId)
      .orderBy('groups.name')
      .pluck('groups.name')) as string[];
    const cards = (await this.db.knex('user_cards').where({ user_id: userId }).orderBy('number').pluck('number')) as string[];
    return { ...toUser(row), account, effectiveCreditLimit: await this.ledger.creditLimitOf(account), groups, cards };
  }

  /** Users with their balances, ordered by username; `search` matches username, full name, email and department. */
  async list(query: UserQuery = {}): Promise<(User & { balance: Money; restricted: boolean })[]> {
    const k = this.db.knex;
    const q = k('users')
      .join('accounts', function () {
        this.on('accounts.user_id', '=', 'users.id').andOn('accounts.type', '=', k.raw('?', ['personal']));
      })
      .select('users.*', 'accounts.balance', 'accounts.restricted')
      .orderBy('users.username')
      .limit(Math.min(Math.max(query.limit ?? 100, 1), 10000))
      .offset(Math.max(query.offset ?? 0, 0));
    if (query.after !== undefined) q.where('users.username', '>', query.after);
    if (query.search) {
      // '!' escapes LIKE wildcards: a backslash would itself need escaping in MySQL string literals.
      const like = `%${query.search.toLowerCase().replace(/[!%_]/g, (c) => `!${c}`)}%`;
      q.where((w) => {
        for (const col of ['users.username', 'users.full_name', 'users.email', 'users.department']) {
          w.orWhereRaw(`LOWER(${col}) LIKE ? ESCAPE '!'`, [like]);
        }
      });
    }
    if (query.group) {
      q.whereIn(
        'users.id',
        k('group_members').join('groups', 'groups.id', 'group_members.group_id').where('groups.name', query.group.trim()).select('group_members.user_id'),
      );
    }
    const rows = (await q) as (UserRow & { balance: number | string; restricted: number | boolean })[];
    return rows.map((r) => ({ ...toUser(r), balance: Number(r.balance), restricted: Boolean(r.restricted) }));
  }

  async count(): Promise<number> {
    const row = (await this.db.knex('users').count({ n: '*' }).first()) as { n: number | string } | undefined;
    return Number(row?.n ?? 0);
  }

  /** Changes a user's details and account settings; every change is audited. */
  async update(userId: number, input: UserChanges, actor = 'system'): Promise<UserDetail> {
    const changes = parse(userChangesSchema, input);
    const passwordHash = changes.password ? await hashPassword(changes.password) : undefined;
    await runKnexTransaction(this.db, async (trx) => {
      const user = (await trx('users').where({ id: userId }).first('username')) as { username: string } | undefined;
      if (!user) throw new NotFoundError('user', userId);
      const now = this.now();
      const userCols: Record<string, unknown> = {};
      if (changes.fullName !== undefined) userCols.full_name = changes.fullName;
      if (changes.email !== undefined) userCols.email = changes.email;
      if (changes.department !== undefined) userCols.department = changes.department;
      if (changes.office !== undefined) userCols.office = changes.office;
      if (changes.disabled !== undefined) userCols.disabled = changes.disabled;
      if (changes.isAdmin !== undefined) userCols.is_admin = changes.isAdmin;
      if (changes.language !== undefined) userCols.language = changes.language;
      if (passwordHash !== undefined) userCols.password_hash = passwordHash;
      if (Object.keys(userCols).length > 0)
        await trx('users')
          .where({ id: userId })
          .update({ ...userCols, updated_at: now });
      const accountCols: Record<string, unknown> = {};
      if (changes.restricted !== undefined) accountCols.restricted = changes.restricted;
      if (changes.creditLimit !== undefined) accountCols.credit_limit = changes.creditLimit;
      if (changes.costMultiplierBp !== undefined) accountCols.cost_multiplier_bp = changes.costMultiplierBp;
      if (Object.keys(accountCols).length > 0) {
        await trx('accounts')
          .where({ user_id: userId, type: 'personal' })
          .update({ ...accountCols, updated_at: now });
      }
      // Restriction and credit limit decide who is blocked: announced once this commits.
      if (changes.restricted !== undefined || changes.creditLimit !== undefined) {
        const account = (await trx('accounts').where({ user_id: userId, type: 'personal' }).first('id')) as { id: number } | undefined;
        if (account) touchAccounts(trx, [account.id]);
      }
      if (Object.keys(changes).length === 0) return;
      const audited = { ...changes, ...(changes.password !== undefined ? { password: '(changed)' } : {}) };
      await recordAudit(trx, { actor, action: 'user.update', targetType: 'user', targetId: user.username, details: audited }, now);
    });
    return this.detail(userId);
  }

  async addCard(userId: number, number: string, actor = 'system'): Promise<void> {
    const card = parse(z.string().trim().min(1).max(128).regex(NAME_PATTERN), number);
    try {
      await runKnexTransaction(this.db, async (trx) => {
        const user = (await trx('users').where({ id: userId }).first('username')) as { username: string } | undefined;
        if (!user) throw new NotFoundError('user', userId);
        const now = this.now();
        await trx('user_cards').insert({ user_id: userId, number: card, created_at: now });
        await recordAudit(trx, { actor, action: 'user.card.add', targetType: 'user', targetId: user.username, details: { card } }, now);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new AlreadyExistsError('card number', card);
      throw err;
    }
  }

  private async groupsByName(trx: Knex.Transaction, names: string[]) {
    const unique = [...new Set(names.map((n) => n.trim()))];
    if (unique.length === 0) return [];
    const rows = (await trx('groups').whereIn('name', unique)) as {
      id: number;
      name: string;
      initial_credit: number | string;
      initial_restricted: number | boolean | null;
      initial_credit_limit: number | string | null;
    }[];
    const missing = unique.filter((n) => !rows.some((r) => r.name === n));
    if (missing.length > 0) throw new NotFoundError('group', missing.join(', '));
    return rows;
  }
}
