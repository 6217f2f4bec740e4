/**
 * What the account pages show, built from the primary's services (no SQL here): a user's
 * accounts (every account they may charge with its balance, the active one, their own recent
 * charges to each) and, for administrators, shared accounts with their access lists and ledgers.
 * Each kind of account the user may charge is one entry with its `type`; a new kind (allocation
 * accounts) is one more type the services list, with the figures its service gives.
 */
import { NotFoundError } from '../../common/errors';
import type { Money } from '../../common/money';
import type { AccountAccess, ChargeableEntry, SharedAccount } from '../../primary/accounts/shared-accounts';
import type { LedgerEntry } from '../../primary/ledger/types';
import type { UserJobRow } from '../../primary/reports/activity';
import type { Services } from '../../primary/services';

/** Recent charges shown under each of the user's accounts. */
export const RECENT_CHARGES = 5;
/** Ledger rows a page of an account's transactions shows. */
export const TRANSACTIONS_PAGE = 25;

/** One account the user may charge, as the accounts page shows it. */
export interface UserAccountView extends ChargeableEntry {
  balance: Money;
  /** Balance less what jobs being printed hold. */
  available: Money;
  restricted: boolean;
  /** The overdraft a restricted account allows (the site default where the account has none). */
  creditLimit: Money;
  active: boolean;
  /** The user's own print jobs charged to it, newest first. */
  charges: UserJobRow[];
}

export interface SharedAccountListRow extends SharedAccount {
  access: AccountAccess;
}

export class AccountPages {
  private readonly s: Services;

  constructor(deps: { services: Services }) {
    this.s = deps.services;
  }

  /** Every account the user may charge now, with the active one marked (`chosen`: the user picked it rather than the default rule). */
  async userAccounts(userId: number, username: string): Promise<{ accounts: UserAccountView[]; chosen: boolean }> {
    const entries = await this.s.accounts.chargeable(username);
    const active = await this.s.accounts.active(username);
    const accounts: UserAccountView[] = [];
    for (const entry of entries) {
      const account = await this.s.ledger.getAccount(entry.id);
      accounts.push({
        ...entry,
        balance: account.balance,
        available: account.balance - account.reserved,
        restricted: account.restricted,
        creditLimit: await this.s.ledger.creditLimitOf(account),
        active: entry.id === active.id,
        charges: await this.s.reports.userJobs(userId, RECENT_CHARGES, { accountId: entry.id }),
      });
    }
    return { accounts, chosen: active.chosen };
  }

  /** Shared accounts by name with who may charge each; archived ones only when asked. */
  async sharedAccounts(search: string, includeArchived: boolean): Promise<SharedAccountListRow[]> {
    const rows: SharedAccountListRow[] = [];
    for (const account of await this.s.accounts.list({ search, includeArchived }))
      rows.push({ ...account, access: await this.s.accounts.access(account.name) });
    return rows;
  }

  /** A shared account by its id (the admin pages' URLs carry ids: names may hold backslashes). */
  async sharedAccount(accountId: number): Promise<SharedAccount> {
    const account = await this.s.ledger.getAccount(accountId);
    if (account.type !== 'shared') throw new NotFoundError('account', accountId);
    return this.s.accounts.get(account.name);
  }

  /** A shared account, who may charge it, and a page of its ledger (newest first; `beforeId` pages back). */
  async sharedAccountDetail(
    accountId: number,
    beforeId: number | undefined,
  ): Promise<{ account: SharedAccount; access: AccountAccess; rows: LedgerEntry[]; olderBeforeId: number | undefined }> {
    const account = await this.sharedAccount(accountId);
    const access = await this.s.accounts.access(account.name);
    const found = await this.s.ledger.history(account.id, { limit: TRANSACTIONS_PAGE + 1, ...(beforeId !== undefined && { beforeId }) });
    const rows = found.slice(0, TRANSACTIONS_PAGE);
    return { account, access, rows, olderBeforeId: found.length > TRANSACTIONS_PAGE ? rows[rows.length - 1]?.id : undefined };
  }
}
