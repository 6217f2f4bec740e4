/**
 * Refund requests for print jobs: a user asks for one of their own charged, printed jobs (one
 * request per job); an administrator approves it (one `refund` ledger row, key
 * `refund:job:<id>`, so a job is never refunded twice) or rejects it. A decision is written with
 * its audit row (`refund.approve` / `refund.reject`, the actor as the caller names it) in one
 * transaction, the refund's ledger row too, whoever decides (the admin page, the coming API).
 */
import type { Knex } from 'knex';
import { recordAudit } from '../audit/audit-log';
import type { Database } from '../db/connection';
import { isUniqueViolation } from '../db/errors';
import { runKnexTransaction } from '../db/sql-runner';
import { AlreadyExistsError, InvalidStateError, NotFoundError, ValidationError } from '../../common/errors';
import type { Money } from '../../common/money';
import type { LedgerService } from '../ledger/ledger-service';
import type { UserService } from '../users/user-service';

export const REFUND_REASON_MAX = 1000;

export interface RefundRequestRow {
  id: number;
  username: string;
  documentName: string;
  printer: string;
  amount: Money;
  reason: string;
  state: string;
  createdAt: number;
  decidedBy: string | null;
}

interface PendingRow {
  id: number;
  user_id: number;
  print_job_id: number;
  amount: number | string;
  state: string;
}

export class RefundService {
  private readonly db: Database;
  private readonly users: UserService;
  private readonly ledger: LedgerService;
  private readonly now: () => number;

  constructor(deps: { db: Database; users: UserService; ledger: LedgerService; now?: () => number }) {
    this.db = deps.db;
    this.users = deps.users;
    this.ledger = deps.ledger;
    this.now = deps.now ?? Date.now;
  }

  /** Asks for a refund of one of the user's own printed jobs (one request per job). */
  async request(userId: number, jobId: number, reason: string): Promise<void> {
    const text = reason.trim();
    if (text.length > REFUND_REASON_MAX) throw new ValidationError('the reason is longer than 1,000 characters', { field: 'reason' });
    // The user id is part of the look-up: another user's job id finds nothing.
    const job = (await this.db.knex('print_jobs').where({ id: jobId, user_id: userId }).first('id', 'cost', 'status')) as
      { id: number; cost: number | string; status: string } | undefined;
    if (!job) throw new NotFoundError('print job', jobId);
    if (job.status !== 'printed' || Number(job.cost) <= 0) throw new ValidationError('only a charged, printed job can be refunded', { field: 'job' });
    try {
      await this.db
        .knex('refund_requests')
        .insert({ print_job_id: jobId, user_id: userId, reason: text, state: 'pending', amount: Number(job.cost), created_at: this.now() });
    } catch (err) {
      if (isUniqueViolation(err)) throw new AlreadyExistsError('refund request for print job', jobId);
      throw err;
    }
  }

  /** The newest 200 requests, pending ones only unless `state` is 'all'. */
  async list(state: 'pending' | 'all' = 'pending'): Promise<RefundRequestRow[]> {
    const q = this.db
      .knex('refund_requests')
      .join('print_jobs', 'print_jobs.id', 'refund_requests.print_job_id')
      .join('printers', 'printers.id', 'print_jobs.printer_id')
      .join('users', 'users.id', 'refund_requests.user_id')
      .orderBy('refund_requests.id', 'desc')
      .limit(200)
      .select('refund_requests.*', 'users.username', 'print_jobs.document_name', 'printers.display_name', 'printers.queue_name');
    if (state === 'pending') q.where('refund_requests.state', 'pending');
    const rows = (await q) as {
      id: number;
      username: string;
      document_name: string;
      display_name: string;
      queue_name: string;
      amount: number | string;
      reason: string;
      state: string;
      created_at: number | string;
      decided_by: string | null;
    }[];
    return rows.map((r) => ({
      id: r.id,
      username: r.username,
      documentName: r.document_name,
      printer: r.display_name || r.queue_name,
      amount: Number(r.amount),
      reason: r.reason,
      state: r.state,
      createdAt: Number(r.created_at),
      decidedBy: r.decided_by,
    }));
  }

  async countPending(): Promise<number> {
    const row = (await this.db.knex('refund_requests').where({ state: 'pending' }).count({ n: '*' }).first()) as { n: number | string } | undefined;
    return Number(row?.n ?? 0);
  }

  /** Approves a pending request: the refund's ledger row, the decision and its audit row commit together. */
  async approve(requestId: number, comment: string, actor: string): Promise<void> {
    const req = await this.pending(requestId);
    // The refund goes back to the account that paid: a shared account's job refunds the shared account.
    const job = (await this.db.knex('print_jobs').where({ id: req.print_job_id }).first('account_id')) as { account_id: number | null } | undefined;
    const accountId = job?.account_id ?? (await this.users.personalAccount(req.user_id)).id;
    await this.decide(req, 'approved', comment, actor, async (trx) => {
      const entry = await this.ledger.postWithin(trx, {
        accountId,
        amount: Number(req.amount),
        type: 'refund',
        key: `refund:job:${req.print_job_id}`,
        reference: `job:${req.print_job_id}`,
        actor,
        comment,
      });
      return entry.id;
    });
  }

  async reject(requestId: number, comment: string, actor: string): Promise<void> {
    await this.decide(await this.pending(requestId), 'rejected', comment, actor, () => Promise.resolve(null));
  }

  private async pending(id: number): Promise<PendingRow> {
    const row = (await this.db.knex('refund_requests').where({ id }).first()) as PendingRow | undefined;
    if (!row) throw new NotFoundError('refund request', id);
    if (row.state !== 'pending') throw new InvalidStateError(`refund request ${id} is already ${row.state}`, { id });
    return row;
  }

  /**
   * Marks the request decided, only if still pending (two administrators deciding at once: the
   * second finds it decided and changes nothing, not even the ledger), with its audit row.
   */
  private async decide(
    req: PendingRow,
    state: 'approved' | 'rejected',
    comment: string,
    actor: string,
    post: (trx: Knex.Transaction) => Promise<number | null>,
  ): Promise<void> {
    await runKnexTransaction(this.db, async (trx) => {
      const marked = await trx('refund_requests')
        .where({ id: req.id, state: 'pending' })
        .update({ state, decided_by: actor.slice(0, 128), decision_comment: comment.slice(0, 1000), decided_at: this.now() });
      if (marked === 0) throw new InvalidStateError(`refund request ${req.id} is already decided`, { id: req.id });
      const ledgerId = await post(trx);
      if (ledgerId !== null) await trx('refund_requests').where({ id: req.id }).update({ ledger_id: ledgerId });
      await recordAudit(
        trx,
        { actor, action: `refund.${state === 'approved' ? 'approve' : 'reject'}`, targetType: 'refund_request', targetId: req.id, details: { comment } },
        this.now(),
      );
    });
  }
}
