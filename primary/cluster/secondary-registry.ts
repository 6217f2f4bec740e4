/**
 * The secondaries a primary knows: registered by name (role, version, host, address), their
 * print queues registered as printers, heartbeats (last seen, outbox depth), and their state
 * as the admin pages and `quotient secondaries` show it.
 */
import { EventEmitter } from 'node:events';
import { z } from 'zod';
import type { Database } from '../db/connection';
import { isUniqueViolation } from '../db/errors';
import { ValidationError } from '../../common/errors';
import type { PrinterRegistry } from '../printing/printer-registry';

export type SecondaryRole = 'print' | 'proxy';

export interface Secondary {
  name: string;
  role: SecondaryRole;
  version: string;
  host: string;
  address: string;
  outboxDepth: number;
  oldestPendingAt: number | null;
  /** Events the secondary's primary refused for good (its dead-letter table), as last reported. */
  deadLetters: number;
  /** The newest of them, "<job id>: <reason>"; '' when none. */
  lastDeadLetter: string;
  registeredAt: number;
  lastSeenAt: number;
  state: 'online' | 'offline';
}

/** A secondary not heard from for this long is shown offline (heartbeats come every 15 s). */
export const OFFLINE_AFTER_MS = 60_000;

const printable = /^[^\p{Cc}]*$/u;
export const registrationSchema = z.object({
  name: z
    .string()
    .min(1, 'is required')
    .max(128)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'may hold letters, digits, dot, dash and underscore'),
  role: z.enum(['print', 'proxy']),
  version: z.string().max(32).regex(printable),
  host: z.string().max(255).regex(printable),
  printers: z
    .array(
      z.object({
        queue: z.string().min(1).max(191).regex(printable),
        description: z.string().max(255).regex(printable),
        location: z.string().max(255).regex(printable),
        deviceUri: z.string().max(1024).regex(printable),
      }),
    )
    .max(1000),
});
export type Registration = z.output<typeof registrationSchema>;

interface SecondaryRow {
  name: string;
  role: SecondaryRole;
  version: string;
  host: string;
  address: string;
  outbox_depth: number;
  oldest_pending_at: number | string | null;
  dead_letters: number;
  last_dead_letter: string;
  registered_at: number | string;
  last_seen_at: number | string;
}

export class SecondaryRegistry {
  /** Emits 'config' with a secondary's name when what it must apply changed. */
  readonly events = new EventEmitter();
  private readonly db: Database;
  private readonly printers: PrinterRegistry;
  private readonly now: () => number;
  private readonly known = new Set<string>();

  constructor(deps: { db: Database; printers: PrinterRegistry; now?: () => number }) {
    this.db = deps.db;
    this.printers = deps.printers;
    this.now = deps.now ?? Date.now;
    this.events.setMaxListeners(0);
  }

  async register(input: unknown, address: string): Promise<Secondary> {
    const parsed = registrationSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ValidationError(`${issue?.path.join('.') ?? 'registration'} ${issue?.message ?? 'is invalid'}`, { field: issue?.path.join('.') });
    }
    const r = parsed.data;
    const now = this.now();
    const cols = { role: r.role, version: r.version, host: r.host, address: address.slice(0, 255), last_seen_at: now };
    const updated = await this.db.knex('secondaries').where({ name: r.name }).update(cols);
    if (updated === 0) {
      try {
        await this.db.knex('secondaries').insert({ name: r.name, ...cols, registered_at: now });
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        await this.db.knex('secondaries').where({ name: r.name }).update(cols);
      }
    }
    for (const p of r.printers) await this.printers.resolve(r.name, p.queue, { description: p.description, location: p.location, deviceUri: p.deviceUri });
    this.known.add(r.name);
    if (r.printers.length > 0) this.events.emit('config', r.name);
    return this.get(r.name) as Promise<Secondary>;
  }

  /**
   * Whether `name` has registered, exactly as spelt (MariaDB's PAD SPACE collations would match
   * "print-1 " to "print-1"); cached once seen: secondaries are not deleted while running.
   */
  async isRegistered(name: string): Promise<boolean> {
    if (this.known.has(name)) return true;
    const row = (await this.db.knex('secondaries').where({ name }).first('name')) as { name: string } | undefined;
    if (row?.name !== name) return false;
    this.known.add(name);
    return true;
  }

  /** Forgets which secondaries were seen, for when the tables were emptied under a running primary (tests). */
  forgetRegistered(): void {
    this.known.clear();
  }

  async heartbeat(name: string, beat: { outboxDepth: number; oldestPendingAt: number; deadLetters?: number; lastDeadLetter?: string }): Promise<void> {
    const clamp = (n: number): number => Math.max(0, Math.min(Math.floor(n) || 0, 2_147_483_647));
    await this.db
      .knex('secondaries')
      .where({ name })
      .update({
        last_seen_at: this.now(),
        outbox_depth: clamp(beat.outboxDepth),
        oldest_pending_at: beat.oldestPendingAt > 0 ? beat.oldestPendingAt : null,
        dead_letters: clamp(beat.deadLetters ?? 0),
        last_dead_letter: (beat.lastDeadLetter ?? '').replace(/\p{Cc}/gu, ' ').slice(0, 512),
      });
  }

  async get(name: string): Promise<Secondary | undefined> {
    const row = (await this.db.knex('secondaries').where({ name }).first()) as SecondaryRow | undefined;
    return row ? this.toSecondary(row) : undefined;
  }

  async list(): Promise<Secondary[]> {
    return ((await this.db.knex('secondaries').orderBy('name')) as SecondaryRow[]).map((r) => this.toSecondary(r));
  }

  private toSecondary(row: SecondaryRow): Secondary {
    const lastSeenAt = Number(row.last_seen_at);
    return {
      name: row.name,
      role: row.role,
      version: row.version,
      host: row.host,
      address: row.address,
      outboxDepth: row.outbox_depth,
      oldestPendingAt: row.oldest_pending_at === null ? null : Number(row.oldest_pending_at),
      deadLetters: Number(row.dead_letters ?? 0),
      lastDeadLetter: row.last_dead_letter ?? '',
      registeredAt: Number(row.registered_at),
      lastSeenAt,
      state: this.now() - lastSeenAt <= OFFLINE_AFTER_MS ? 'online' : 'offline',
    };
  }
}
