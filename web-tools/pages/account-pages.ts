/**
 * What the account pages show, built from the primary's services (no SQL here): a user's
 * accounts (every account they may charge with its balance, the active one, their own recent
 * charges to each) and, for administrators, shared accounts with their access lists and ledgers.
 * Each kind of account the user may charge is one entry with its `type`; an allocation account
 * also carries the user's own allocation on it (Allocations.forUser), and its admin page the
 * schedule and every user's balance on it.
 */
import { NotFoundError } from '../../common/errors';
import type { Money } from '../../common/money';
import type { AllocationAccount, PairBalance, UserAllocation } from '../../primary/accounts/allocations';
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
  /** On an allocation account, the user's own allocation; null on any other account. */
  allocation: UserAllocation | null;
  /** The user's own print jobs charged to it (on an allocation account, to their pair), newest first. */
  charges: UserJobRow[];
}

/** What an allocation account's admin page adds: its schedule's next run and every user's balance on it. */
export interface AllocationDetail {
  account: AllocationAccount;
  /** The next period start, or null while the schedule is disabled. */
  nextRun: number | null;
  users: PairBalance[];
}

export interface SharedAccountListRow extends SharedAccount {
  access: AccountAccess;
}

export class AccountPages {
  private readonly s: Services;

  constructor(deps: { services: Services }) {
    this.s = deps.services;
  }

  /**
   * Every account the user may charge now, with the active one marked (`chosen`: the user picked
   * it rather than the default rule). The balances and recent charges of all of them are read
   * together, so the page's queries do not grow with the number of accounts (only an
   * allocation account adds its own).
   */
  async userAccounts(userId: number, username: string): Promise<{ accounts: UserAccountView[]; chosen: boolean }> {
    const { entries, active } = await this.s.accounts.chargeableWithActive(username);
    const standing = await this.s.accounts.standing(entries.map((e) => e.id));
    const defaultCreditLimit = await this.s.ledger.defaultCreditLimit();
    const views: Omit<UserAccountView, 'charges'>[] = [];
    for (const entry of entries) {
      const found = standing.get(entry.id);
      if (!found) throw new NotFoundError('account', entry.id);
      const { account } = found;
      const allocation = found.allocation ? await this.s.allocations.forUser(entry.id, userId) : null;
      views.push({
        ...entry,
        balance: account.balance,
        available: account.balance - account.reserved,
        restricted: account.restricted,
        creditLimit: account.creditLimit ?? defaultCreditLimit,
        active: entry.id === active.id,
        allocation,
      });
    }
    // An allocation account's jobs are stored under the user's pair: none before the pair exists.
    const chargedTo = (v: Omit<UserAccountView, 'charges'>): number | null => (v.allocation ? v.allocation.pairId : v.id);
    const ids = views.map(chargedTo).filter((id): id is number => id !== null);
    const charges = await this.s.reports.userJobsByAccount(userId, ids, RECENT_CHARGES);
    const accounts = views.map((v) => {
      const id = chargedTo(v);
      return { ...v, charges: id === null ? [] : (charges.get(id) ?? []) };
    });
    return { accounts, chosen: active.chosen };
  }

  /** Shared accounts by name with who may charge each (read for all of them at once); archived ones only when asked. */
  async sharedAccounts(search: string, includeArchived: boolean): Promise<SharedAccountListRow[]> {
    const accounts = await this.s.accounts.list({ search, includeArchived });
    const access = await this.s.accounts.accessOfMany(accounts);
    return accounts.map((account) => ({ ...account, access: access.get(account.id) ?? { everyone: account.everyone, users: [], groups: [] } }));
  }

  /** A shared account by its id (the admin pages' URLs carry ids: names may hold backslashes). */
  async sharedAccount(accountId: number): Promise<SharedAccount> {
    const account = await this.s.ledger.getAccount(accountId);
    if (account.type !== 'shared') throw new NotFoundError('account', accountId);
    return this.s.accounts.get(account.name);
  }

  /** A shared account, who may charge it, its allocation if it is an allocation account, and a page of its ledger (newest first; `beforeId` pages back). */
  async sharedAccountDetail(
    accountId: number,
    beforeId: number | undefined,
  ): Promise<{ account: SharedAccount; access: AccountAccess; allocation: AllocationDetail | null; rows: LedgerEntry[]; olderBeforeId: number | undefined }> {
    const account = await this.sharedAccount(accountId);
    const access = await this.s.accounts.access(account.name);
    const allocation = await this.allocationDetail(account.id);
    const found = await this.s.ledger.history(account.id, { limit: TRANSACTIONS_PAGE + 1, ...(beforeId !== undefined && { beforeId }) });
    const rows = found.slice(0, TRANSACTIONS_PAGE);
    return { account, access, allocation, rows, olderBeforeId: found.length > TRANSACTIONS_PAGE ? rows[rows.length - 1]?.id : undefined };
  }

  private async allocationDetail(accountId: number): Promise<AllocationDetail | null> {
    const account = await this.s.allocations.find(accountId);
    if (!account) return null;
    const { schedule } = account;
    const nextRun = schedule.enabled ? (this.s.quotas.nextRuns(schedule, 1)[0] ?? null) : null;
    return { account, nextRun, users: await this.s.allocations.balances(account.name) };
  }
}
