/**
 * Internet charging settings, kept as `internet.*` rows of the shared settings table (so every
 * primary sharing the database agrees), validated here. Prices are exact integers:
 *
 *  - `costPerMbMilli`: thousandths of a minor unit per MB, MB = 1,048,576 bytes. 2.5 cents/MB is
 *    2500; 1 cent/GB is about 0.98 (rounds to 1 milli/MB — use costPerMbMilli for MB prices).
 *  - `periodMinutes` / `periodCost`: time-period charging; every period (aligned to the epoch, in
 *    UTC) in which a user had any charged activity costs `periodCost` minor units, once.
 */
import { z } from 'zod';
import { ValidationError } from '../../common/errors';
import { MAX_AMOUNT } from '../../common/money';
import type { Database } from '../db/connection';

export const MB = 1_048_576;
export const PRICE_SCALE = 1000;

const domainSuffix = z
  .string()
  .trim()
  .toLowerCase()
  .min(1)
  .max(253)
  .regex(/^\.?[a-z0-9*-]+(\.[a-z0-9-]+)*$/, 'must be a host name or a suffix like .example.org')
  .transform((d) => d.replace(/^\*?\.?/, ''));

export const internetSettingsSchema = z
  .object({
    costPerMbMilli: z.number().int().min(0).max(MAX_AMOUNT).default(0),
    chargeCacheHits: z.boolean().default(true),
    chargeUploads: z.boolean().default(true),
    /** Destinations that cost nothing: a host and every name under it (suffix match on labels). */
    zeroRatedDomains: z.array(domainSuffix).max(10_000).default([]),
    /** Users whose usage costs nothing (recorded all the same). */
    zeroRatedUsers: z.array(z.string().trim().toLowerCase().min(1).max(128)).max(100_000).default([]),
    periodMinutes: z
      .number()
      .int()
      .min(0)
      .max(24 * 60)
      .default(0),
    periodCost: z.number().int().min(0).max(MAX_AMOUNT).default(0),
  })
  .strict();

export type InternetSettings = z.output<typeof internetSettingsSchema>;
type Key = keyof InternetSettings;

const PREFIX = 'internet.';

export class InternetSettingsStore {
  private readonly db: Database;

  constructor(deps: { db: Database }) {
    this.db = deps.db;
  }

  async get(): Promise<InternetSettings> {
    const rows = (await this.db.knex('settings').where('key', 'like', `${PREFIX}%`).select('key', 'value')) as { key: string; value: string }[];
    const raw: Record<string, unknown> = {};
    const known = Object.keys(internetSettingsSchema.shape);
    for (const r of rows) {
      const k = r.key.slice(PREFIX.length);
      if (known.includes(k)) raw[k] = JSON.parse(r.value) as unknown;
    }
    return internetSettingsSchema.parse(raw);
  }

  /** Validates and stores the given settings; the others keep their values. */
  async set(changes: Partial<Record<Key, unknown>>): Promise<InternetSettings> {
    const merged = { ...(await this.get()), ...changes };
    const parsed = internetSettingsSchema.safeParse(merged);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ValidationError(`invalid internet setting ${String(issue?.path.join('.') ?? '')}: ${issue?.message ?? ''}`, {
        field: String(issue?.path[0] ?? ''),
      });
    }
    const now = Date.now();
    const rows = (Object.keys(changes) as Key[]).map((k) => ({ key: `${PREFIX}${k}`, value: JSON.stringify(parsed.data[k]), updated_at: now }));
    if (rows.length > 0) await this.db.knex('settings').insert(rows).onConflict('key').merge(['value', 'updated_at']);
    return parsed.data;
  }
}

/** Whether `domain` is one of the zero-rated names or under one ("a.b.test" is under "b.test"). */
export function isZeroRatedDomain(domain: string, zeroRated: ReadonlySet<string>): boolean {
  let d = domain;
  for (;;) {
    if (zeroRated.has(d)) return true;
    const dot = d.indexOf('.');
    if (dot === -1) return false;
    d = d.slice(dot + 1);
  }
}
