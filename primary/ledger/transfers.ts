/**
 * Transfers of credit between users, whoever asks for one (the web tools' transfer page, the
 * coming API): on or off, and a minimum and maximum amount, by site settings. The rules are
 * checked here, the money moves through LedgerService.transferWithin (two `transfer` rows, the
 * sender's refused below their credit limit when restricted), and each transfer is audited with
 * the sender as the actor. A refusal is a TransferRefusedError whose `reason` the page turns into
 * a message from the catalogue. The ledger rows and the audit row are written in one transaction.
 */
import { recordAudit } from '../audit/audit-log';
import { runKnexTransaction } from '../db/sql-runner';
import { QuotientError, isQuotientError } from '../../common/errors';
import type { Money } from '../../common/money';
import type { Services } from '../services';

export type TransferRefusal = 'disabled' | 'amount' | 'minimum' | 'maximum' | 'self' | 'unknownUser' | 'insufficient' | 'comment';

export class TransferRefusedError extends QuotientError {
  readonly reason: TransferRefusal;

  constructor(reason: TransferRefusal) {
    super(
      reason === 'disabled' ? 'FORBIDDEN' : reason === 'insufficient' ? 'INSUFFICIENT_FUNDS' : reason === 'unknownUser' ? 'NOT_FOUND' : 'VALIDATION',
      `transfer refused: ${reason}`,
      { reason },
    );
    this.reason = reason;
  }
}

export interface TransferRules {
  enabled: boolean;
  minimum: Money;
  maximum: Money;
}

export interface TransferRequest {
  toUsername: string;
  amount: Money;
  comment: string;
  /** The form's one-time key: sending the same form twice moves the money once. */
  formKey: string;
}

export const TRANSFER_COMMENT_MAX = 200;

/** The services a transfer uses (createServices builds UserTransfers from these). */
type TransferDeps = Pick<Services, 'db' | 'settings' | 'users' | 'ledger'>;

export class UserTransfers {
  private readonly s: TransferDeps;
  private readonly now: () => number;

  constructor(deps: { services: TransferDeps; now?: () => number }) {
    this.s = deps.services;
    this.now = deps.now ?? Date.now;
  }

  async rules(): Promise<TransferRules> {
    const all = await this.s.settings.all();
    return { enabled: all['transfers.enabled'], minimum: all['transfers.minimum'], maximum: all['transfers.maximum'] };
  }

  /** Sends `amount` from the signed-in user to `toUsername`; returns the sender's balance after it. */
  async send(fromUserId: number, req: TransferRequest): Promise<{ balanceAfter: Money; replayed: boolean }> {
    const rules = await this.rules();
    if (!rules.enabled) throw new TransferRefusedError('disabled');
    if (!Number.isSafeInteger(req.amount) || req.amount <= 0) throw new TransferRefusedError('amount');
    if (req.amount < rules.minimum) throw new TransferRefusedError('minimum');
    if (req.amount > rules.maximum) throw new TransferRefusedError('maximum');
    const comment = req.comment.trim();
    if (comment.length > TRANSFER_COMMENT_MAX) throw new TransferRefusedError('comment');
    const from = await this.s.users.detail(fromUserId);
    // A disabled recipient is answered like an unknown one: the form does not reveal who exists.
    const to = await this.s.users.findByUsername(req.toUsername);
    if (!to || to.disabled) throw new TransferRefusedError('unknownUser');
    if (to.id === from.id) throw new TransferRefusedError('self');
    const toAccount = await this.s.users.personalAccount(to.id);
    let moved;
    try {
      // The two ledger rows and the audit row commit together, or none of them does.
      moved = await runKnexTransaction(this.s.db, async (trx) => {
        const rows = await this.s.ledger.transferWithin(trx, {
          fromAccountId: from.account.id,
          toAccountId: toAccount.id,
          amount: req.amount,
          key: `web:transfer:${fromUserId}:${req.formKey}`,
          reference: `transfer:${from.username}:${to.username}`.slice(0, 255),
          actor: from.username,
          comment: comment === '' ? `${from.username} → ${to.username}` : `${from.username} → ${to.username}: ${comment}`,
        });
        if (!rows.from.replayed) {
          const details = { amount: req.amount, comment, fromLedgerId: rows.from.id, toLedgerId: rows.to.id };
          await recordAudit(trx, { actor: from.username, action: 'balance.transfer', targetType: 'user', targetId: to.username, details }, this.now());
        }
        return rows;
      });
    } catch (err) {
      if (isQuotientError(err) && err.code === 'INSUFFICIENT_FUNDS') throw new TransferRefusedError('insufficient');
      throw err;
    }
    return { balanceAfter: moved.from.balanceAfter, replayed: moved.from.replayed };
  }
}
