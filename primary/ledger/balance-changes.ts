/**
 * An administrator's balance changes, whoever makes them (`quotient balance adjust|set`,
 * `quotient accounts adjust|set-balance`, the admin user page, the coming REST API): one ledger
 * row and one audit row (`balance.adjust` or `balance.set`, on the user or the shared account,
 * the actor as the caller names it: `cli:<os user>`, the administrator's username)
 * written in one transaction, both or neither. The key makes a repeat change nothing and write
 * no second audit row; the caller chooses it (a form's one-time key, `--key`).
 */
import type { Knex } from 'knex';
import { recordAudit } from '../audit/audit-log';
import type { Database } from '../db/connection';
import { runKnexTransaction } from '../db/sql-runner';
import { ValidationError } from '../../common/errors';
import type { Money } from '../../common/money';
import type { UserService } from '../users/user-service';
import type { LedgerService } from './ledger-service';
import type { LedgerEntry } from './types';

/** A change to a user's personal account (`userId`) or to a shared account (`accountId`). */
export type BalanceChange = ({ userId: number } | { accountId: number }) & {
  comment: string;
  /** The ledger row's idempotency key, as the caller makes it unique (`web:adjust:<form key>`, `cli:<uuid>`). */
  key: string;
  actor: string;
};

/** What a change did: the user's or shared account's name and the ledger row (`replayed` when the key had been used). */
export interface BalanceChangeResult {
  name: string;
  entry: LedgerEntry;
}

export class BalanceChanges {
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

  /** Adds a signed amount to the user's balance; never refused for want of credit. */
  async adjust(change: BalanceChange & { amount: Money }): Promise<BalanceChangeResult> {
    if (change.amount === 0) throw new ValidationError('an adjustment of zero changes nothing', { field: 'amount' });
    return this.audited(change, 'balance.adjust', { amount: change.amount }, (trx, accountId) =>
      this.ledger.postWithin(trx, { accountId, amount: change.amount, type: 'adjustment', comment: change.comment, key: change.key, actor: change.actor }),
    );
  }

  /** Sets the user's balance: one ledger row for the difference (possibly zero). */
  async set(change: BalanceChange & { balance: Money }): Promise<BalanceChangeResult> {
    return this.audited(change, 'balance.set', { balance: change.balance }, (trx, accountId) =>
      this.ledger.setBalanceWithin(trx, { accountId, balance: change.balance, comment: change.comment, key: change.key, actor: change.actor }),
    );
  }

  private async audited(
    change: BalanceChange,
    action: string,
    details: Record<string, unknown>,
    post: (trx: Knex.Transaction, accountId: number) => Promise<LedgerEntry>,
  ): Promise<BalanceChangeResult> {
    const target = await this.targetOf(change);
    const entry = await runKnexTransaction(this.db, async (trx) => {
      const posted = await post(trx, target.accountId);
      if (!posted.replayed) {
        await recordAudit(
          trx,
          {
            actor: change.actor,
            action,
            targetType: target.type,
            targetId: target.name,
            details: { ...details, comment: change.comment, ledgerId: posted.id },
          },
          this.now(),
        );
      }
      return posted;
    });
    return { name: target.name, entry };
  }

  /** The account a change posts to, and how the audit log names it: the user, or the shared account. */
  private async targetOf(change: BalanceChange): Promise<{ accountId: number; type: 'user' | 'account'; name: string }> {
    if ('userId' in change) {
      const detail = await this.users.detail(change.userId);
      return { accountId: detail.account.id, type: 'user', name: detail.username };
    }
    const account = await this.ledger.getAccount(change.accountId);
    if (account.type !== 'shared') throw new ValidationError("change a personal account's balance through its user", { field: 'accountId' });
    // An allocation account's own row holds nothing: each user's allocation is its own balance,
    // set by the account's schedule, so a change to the row would be money no job can reach.
    const model = (await this.db.knex('accounts').where({ id: account.id }).first('allocation_model')) as { allocation_model: string } | undefined;
    if (model?.allocation_model === 'per_user') {
      throw new ValidationError(`account ${account.name} gives each user an allocation: it has no balance of its own to change`, { field: 'account' });
    }
    return { accountId: account.id, type: 'account', name: account.name };
  }
}
