/**
 * Site settings kept in the database (so every primary sharing it agrees): currency, defaults
 * for new users and accounts, transfers between users. Typed and validated per key; several are
 * saved all or nothing (setAll); read through a short cache.
 */
import type { Knex } from 'knex';
import { z } from 'zod';
import { recordAudit } from '../audit/audit-log';
import type { Database } from '../db/connection';
import { runKnexTransaction } from '../db/sql-runner';
import { ValidationError } from '../../common/errors';
import { MAX_AMOUNT, type CurrencyFormat } from '../../common/money';

const amount = z.number().int().min(-MAX_AMOUNT).max(MAX_AMOUNT);

/** Group names, comma-separated ("students, print"); stored trimmed, de-duplicated, as "students,print". */
const groupNames = z
  .string()
  .max(2000)
  .transform((text) =>
    [
      ...new Set(
        text
          .split(',')
          .map((n) => n.trim())
          .filter((n) => n !== ''),
      ),
    ].join(','),
  )
  .refine((names) => names.split(',').every((n) => n.length <= 128 && !/[\p{Cc}\p{Cf}]/u.test(n)), 'group names are at most 128 printable characters');

/** The names in a `users.onDemandGroups` value. */
export function groupList(value: string): string[] {
  return value === '' ? [] : value.split(',');
}

export const SETTINGS = {
  'currency.symbol': z.string().max(8).default('$'),
  'currency.decimals': z.number().int().min(0).max(4).default(2),
  /** Overdraft of a restricted account whose own credit limit is unset. */
  'accounts.defaultCreditLimit': amount.min(0).default(0),
  'users.newUserRestricted': z.boolean().default(true),
  'users.newUserInitialCredit': amount.min(0).default(0),
  /**
   * Groups a user created on demand joins (first print job, or internet usage when
   * internet.unknownUsers is create), so the groups' new-user rules and quota schedules apply.
   */
  'users.onDemandGroups': groupNames.default(''),
  /** Jobs from a username Quotient does not know: create the user (new-user rules apply) or deny. */
  'printing.unknownUsers': z.enum(['create', 'deny']).default('create'),
  /**
   * Internet usage from a username Quotient does not know: record it without a user (free, as
   * before) or create the user on demand and charge it. (The other internet.* rows belong to
   * InternetSettingsStore, which ignores this one.)
   */
  'internet.unknownUsers': z.enum(['record', 'create']).default('record'),
  /**
   * Seconds an authorised print job may wait for its commit or release before the primary
   * releases its hold (primary/printing/authorisation-expiry.ts). Longer than any print takes,
   * so it only catches jobs whose end was lost; a commit that still comes is charged.
   */
  'printing.authorisationTimeout': z
    .number()
    .int()
    .min(300)
    .max(7 * 24 * 3600)
    .default(4 * 3600),
  /** The rate card new printers get; created with 10 grey / 50 colour per page if missing. */
  'printing.defaultRateCard': z.string().min(1).max(128).default('Default'),
  /** Users may send credit to each other from the web tools, within these amounts. */
  'transfers.enabled': z.boolean().default(false),
  'transfers.minimum': amount.min(1).default(1),
  'transfers.maximum': amount.min(1).default(10_000),
} as const;

export type SettingKey = keyof typeof SETTINGS;
export type SettingValue<K extends SettingKey> = z.output<(typeof SETTINGS)[K]>;

/** One setting a setAll() changed, with its value before and after. */
export interface SettingChange {
  key: SettingKey;
  from: unknown;
  to: unknown;
}

const CACHE_MS = 2000;

export class SettingsService {
  private readonly db: Database;
  private cache: { at: number; values: Map<string, unknown> } | undefined;

  constructor(deps: { db: Database }) {
    this.db = deps.db;
  }

  async get<K extends SettingKey>(key: K): Promise<SettingValue<K>> {
    const values = await this.load();
    return SETTINGS[key].parse(values.get(key)) as SettingValue<K>;
  }

  async all(): Promise<{ [K in SettingKey]: SettingValue<K> }> {
    const values = await this.load();
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(SETTINGS) as SettingKey[]) out[key] = SETTINGS[key].parse(values.get(key));
    return out as { [K in SettingKey]: SettingValue<K> };
  }

  async set<K extends SettingKey>(key: K, value: unknown): Promise<SettingValue<K>> {
    const parsed = await this.parse(key, value);
    await this.write(this.db.knex, key, parsed);
    this.cache = undefined;
    return parsed as SettingValue<K>;
  }

  /**
   * Several settings at once, all or nothing: every value is validated before anything is
   * written (the first invalid one is refused as a ValidationError naming its key), then the ones
   * that changed are written in one transaction, together with whatever `within` writes there
   * (the caller's audit rows). Returns what changed.
   */
  async setAll(
    values: Partial<Record<SettingKey, unknown>>,
    within?: (trx: Knex.Transaction, changes: SettingChange[]) => Promise<void>,
  ): Promise<SettingChange[]> {
    this.cache = undefined; // compare with what the database holds now, not with a cached copy
    const current = await this.all();
    const changes: SettingChange[] = [];
    for (const [key, value] of Object.entries(values) as [SettingKey, unknown][]) {
      const to = await this.parse(key, value);
      if (JSON.stringify(to) !== JSON.stringify(current[key])) changes.push({ key, from: current[key], to });
    }
    if (changes.length === 0) return changes;
    try {
      await runKnexTransaction(this.db, async (trx) => {
        for (const c of changes) await this.write(trx, c.key, c.to);
        await within?.(trx, changes);
      });
    } finally {
      this.cache = undefined;
    }
    return changes;
  }

  /** Validates values as setAll() would, writing nothing. */
  async check(values: Partial<Record<SettingKey, unknown>>): Promise<void> {
    for (const [key, value] of Object.entries(values) as [SettingKey, unknown][]) await this.parse(key, value);
  }

  /** A setting's value validated by its schema (and, for groups, that they exist). */
  private async parse(key: SettingKey, value: unknown): Promise<unknown> {
    // Own keys only: "constructor" or "__proto__" are not settings.
    if (!Object.hasOwn(SETTINGS, key)) throw new ValidationError(`unknown setting ${key}`, { key });
    const schema = SETTINGS[key] as z.ZodType;
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw new ValidationError(`invalid value for ${key}: ${parsed.error.issues[0]?.message ?? ''}`, { key });
    if (key === 'users.onDemandGroups') await this.checkGroupsExist(groupList(parsed.data as string));
    return parsed.data;
  }

  private async write(k: Knex | Knex.Transaction, key: SettingKey, value: unknown): Promise<void> {
    await k('settings')
      .insert({ key, value: JSON.stringify(value), updated_at: Date.now() })
      .onConflict('key')
      .merge(['value', 'updated_at']);
  }

  async currency(): Promise<CurrencyFormat> {
    return { symbol: await this.get('currency.symbol'), decimals: await this.get('currency.decimals') };
  }

  private async checkGroupsExist(names: string[]): Promise<void> {
    if (names.length === 0) return;
    const found = new Set((await this.db.knex('groups').whereIn('name', names).pluck('name')) as string[]);
    const missing = names.filter((n) => !found.has(n));
    if (missing.length > 0)
      throw new ValidationError(`invalid value for users.onDemandGroups: no group ${missing.join(', ')}`, { key: 'users.onDemandGroups' });
  }

  /** Drops the cached values, so the next read sees what the database holds now (after the tables were emptied under it, in tests). */
  forget(): void {
    this.cache = undefined;
  }

  private async load(): Promise<Map<string, unknown>> {
    if (this.cache && Date.now() - this.cache.at < CACHE_MS) return this.cache.values;
    const rows = (await this.db.knex('settings').select('key', 'value')) as { key: string; value: string }[];
    const values = new Map<string, unknown>(rows.map((r) => [r.key, JSON.parse(r.value) as unknown]));
    this.cache = { at: Date.now(), values };
    return values;
  }

  /**
   * setAll() made by a person, whoever asks (`quotient settings set`, the admin settings page,
   * the coming API): one `settings.set` audit row per change, with its value before and after,
   * written in the same transaction as the change. A value that does not change writes nothing.
   */
  async change(values: Partial<Record<SettingKey, unknown>>, actor: string): Promise<SettingChange[]> {
    return this.setAll(values, async (trx, changes) => {
      for (const c of changes)
        await recordAudit(trx, { actor, action: 'settings.set', targetType: 'setting', targetId: c.key, details: { from: c.from, to: c.to } });
    });
  }
}
