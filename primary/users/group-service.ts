/**
 * Groups and memberships, and each group's new-user rules (initial credit, initially
 * restricted, initial overdraft) that apply to users created in it.
 */
import { z } from 'zod';
import type { Database } from '../db/connection';
import { isUniqueViolation } from '../db/errors';
import { runKnexTransaction } from '../db/sql-runner';
import { recordAudit } from '../audit/audit-log';
import { AlreadyExistsError, NotFoundError, ValidationError } from '../../common/errors';
import { MAX_AMOUNT, type Money } from '../../common/money';
import { normaliseUsername } from './user-service';

export interface NewUserRules {
  initialCredit: Money;
  /** null: the site default applies. */
  initialRestricted: boolean | null;
  /** null: the site default applies. */
  initialCreditLimit: Money | null;
}

export interface Group extends NewUserRules {
  id: number;
  name: string;
  description: string;
  members: number;
}

interface GroupRow {
  id: number;
  name: string;
  description: string;
  initial_credit: number | string;
  initial_restricted: number | boolean | null;
  initial_credit_limit: number | string | null;
  members?: number | string;
}

function toGroup(row: GroupRow): Group {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    initialCredit: Number(row.initial_credit),
    initialRestricted: row.initial_restricted === null ? null : Boolean(row.initial_restricted),
    initialCreditLimit: row.initial_credit_limit === null ? null : Number(row.initial_credit_limit),
    members: Number(row.members ?? 0),
  };
}

const groupNameSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(128)
  .regex(/^[^\p{Cc}\p{Cf}]+$/u, 'contains control characters');
const rulesSchema = z
  .object({
    initialCredit: z.number().int().min(0).max(MAX_AMOUNT),
    initialRestricted: z.boolean().nullable(),
    initialCreditLimit: z.number().int().min(0).max(MAX_AMOUNT).nullable(),
  })
  .partial();

function parse<T extends z.ZodType>(schema: T, input: unknown, field: string): z.output<T> {
  const result = schema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = [field, ...(issue?.path ?? [])].filter(Boolean).join('.');
    throw new ValidationError(`${path} ${issue?.message ?? 'is invalid'}`, { field: path });
  }
  return result.data;
}

export class GroupService {
  private readonly db: Database;
  private readonly now: () => number;

  constructor(deps: { db: Database; now?: () => number }) {
    this.db = deps.db;
    this.now = deps.now ?? Date.now;
  }

  async create(input: { name: string; description?: string } & Partial<NewUserRules>, actor = 'system'): Promise<Group> {
    const name = parse(groupNameSchema, input.name, 'name');
    const description = parse(z.string().max(1000), input.description ?? '', 'description');
    const rules = parse(
      rulesSchema,
      { initialCredit: input.initialCredit, initialRestricted: input.initialRestricted, initialCreditLimit: input.initialCreditLimit },
      'rules',
    );
    try {
      await runKnexTransaction(this.db, async (trx) => {
        const now = this.now();
        await trx('groups').insert({
          name,
          description,
          initial_credit: rules.initialCredit ?? 0,
          initial_restricted: rules.initialRestricted ?? null,
          initial_credit_limit: rules.initialCreditLimit ?? null,
          created_at: now,
          updated_at: now,
        });
        await recordAudit(trx, { actor, action: 'group.create', targetType: 'group', targetId: name, details: rules }, now);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new AlreadyExistsError('group', name);
      throw err;
    }
    return this.get(name);
  }

  async get(name: string): Promise<Group> {
    const row = (await this.withCounts().where('groups.name', name.trim()).first()) as GroupRow | undefined;
    if (!row) throw new NotFoundError('group', name.trim());
    return toGroup(row);
  }

  async list(): Promise<Group[]> {
    return ((await this.withCounts().orderBy('groups.name')) as GroupRow[]).map(toGroup);
  }

  async members(name: string): Promise<string[]> {
    const group = await this.get(name);
    return (await this.db
      .knex('users')
      .join('group_members', 'group_members.user_id', 'users.id')
      .where('group_members.group_id', group.id)
      .orderBy('users.username')
      .pluck('users.username')) as string[];
  }

  /** Adds users to a group; users already in it are left as they are. Returns how many were added. */
  async addMembers(name: string, usernames: string[], actor = 'system'): Promise<number> {
    const wanted = [...new Set(usernames.map(normaliseUsername))];
    return runKnexTransaction(this.db, async (trx) => {
      const group = (await trx('groups').where({ name: name.trim() }).first('id')) as { id: number } | undefined;
      if (!group) throw new NotFoundError('group', name.trim());
      const users = (await trx('users').whereIn('username', wanted).select('id', 'username')) as { id: number; username: string }[];
      const missing = wanted.filter((u) => !users.some((r) => r.username === u));
      if (missing.length > 0) throw new NotFoundError('user', missing.join(', '));
      const already = new Set(
        (await trx('group_members')
          .where({ group_id: group.id })
          .whereIn(
            'user_id',
            users.map((u) => u.id),
          )
          .pluck('user_id')) as number[],
      );
      const now = this.now();
      const fresh = users.filter((u) => !already.has(u.id));
      for (const u of fresh) await trx('group_members').insert({ group_id: group.id, user_id: u.id, created_at: now });
      await recordAudit(
        trx,
        { actor, action: 'group.members.add', targetType: 'group', targetId: name.trim(), details: { users: fresh.map((u) => u.username) } },
        now,
      );
      return fresh.length;
    });
  }

  async removeMembers(name: string, usernames: string[], actor = 'system'): Promise<number> {
    const wanted = [...new Set(usernames.map(normaliseUsername))];
    return runKnexTransaction(this.db, async (trx) => {
      const group = (await trx('groups').where({ name: name.trim() }).first('id')) as { id: number } | undefined;
      if (!group) throw new NotFoundError('group', name.trim());
      const members = (await trx('users')
        .join('group_members', 'group_members.user_id', 'users.id')
        .where('group_members.group_id', group.id)
        .whereIn('users.username', wanted)
        .select('users.id', 'users.username')) as { id: number; username: string }[];
      const removed = await trx('group_members')
        .where({ group_id: group.id })
        .whereIn(
          'user_id',
          members.map((m) => m.id),
        )
        .delete();
      await recordAudit(
        trx,
        { actor, action: 'group.members.remove', targetType: 'group', targetId: name.trim(), details: { users: members.map((m) => m.username) } },
        this.now(),
      );
      return removed;
    });
  }

  async setRules(name: string, input: Partial<NewUserRules>, actor = 'system'): Promise<Group> {
    const rules = parse(rulesSchema, input, 'rules');
    await runKnexTransaction(this.db, async (trx) => {
      const now = this.now();
      const cols: Record<string, unknown> = { updated_at: now };
      if (rules.initialCredit !== undefined) cols.initial_credit = rules.initialCredit;
      if (rules.initialRestricted !== undefined) cols.initial_restricted = rules.initialRestricted;
      if (rules.initialCreditLimit !== undefined) cols.initial_credit_limit = rules.initialCreditLimit;
      const changed = await trx('groups').where({ name: name.trim() }).update(cols);
      if (changed === 0) throw new NotFoundError('group', name.trim());
      await recordAudit(trx, { actor, action: 'group.rules', targetType: 'group', targetId: name.trim(), details: rules }, now);
    });
    return this.get(name);
  }

  private withCounts() {
    const k = this.db.knex;
    return k('groups')
      .leftJoin(k('group_members').select('group_id').count({ members: '*' }).groupBy('group_id').as('m'), 'm.group_id', 'groups.id')
      .select('groups.*', k.raw('COALESCE(m.members, 0) as members'));
  }
}
