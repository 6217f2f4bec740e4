/**
 * The audit log: who did what to which object, written in the same transaction as the change.
 */
import type { Knex } from 'knex';

export interface AuditEntry {
  actor: string;
  action: string;
  targetType?: string;
  targetId?: string | number;
  details?: Record<string, unknown>;
}

export async function recordAudit(trx: Knex | Knex.Transaction, entry: AuditEntry, now = Date.now()): Promise<void> {
  await trx('audit_log').insert({
    at: now,
    actor: entry.actor.slice(0, 128),
    action: entry.action.slice(0, 64),
    target_type: entry.targetType ?? '',
    target_id: entry.targetId === undefined ? '' : String(entry.targetId),
    details: JSON.stringify(entry.details ?? {}),
  });
}

export interface AuditRow {
  id: number;
  at: number;
  actor: string;
  action: string;
  targetType: string;
  targetId: string;
  details: Record<string, unknown>;
}

export async function listAudit(knex: Knex, opts: { limit?: number; targetType?: string; targetId?: string } = {}): Promise<AuditRow[]> {
  const q = knex('audit_log')
    .orderBy('id', 'desc')
    .limit(Math.min(opts.limit ?? 100, 1000));
  if (opts.targetType) q.where({ target_type: opts.targetType });
  if (opts.targetId) q.where({ target_id: opts.targetId });
  const rows = (await q) as {
    id: number | string;
    at: number | string;
    actor: string;
    action: string;
    target_type: string;
    target_id: string;
    details: string;
  }[];
  return rows.map((r) => ({
    id: Number(r.id),
    at: Number(r.at),
    actor: r.actor,
    action: r.action,
    targetType: r.target_type,
    targetId: r.target_id,
    details: JSON.parse(r.details) as Record<string, unknown>,
  }));
}
