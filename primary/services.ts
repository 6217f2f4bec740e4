/**
 * Builds every service of a primary once, around one database handle. The CLI, the HTTP and gRPC
 * edges and the tests all get their services from here, so there is one way things are wired.
 */
import { Allocations } from './accounts/allocations';
import { ApiClientService } from './api-clients/api-client-service';
import { SharedAccounts } from './accounts/shared-accounts';
import { CardService } from './cards/card-service';
import type { Database } from './db/connection';
import { InternetChargingService } from './internet/internet-charging';
import { InternetSettingsStore } from './internet/internet-settings';
import { BalanceChanges } from './ledger/balance-changes';
import { LedgerService } from './ledger/ledger-service';
import { UserTransfers } from './ledger/transfers';
import { RateCardStore } from './pricing/rate-card-store';
import { PrinterRegistry } from './printing/printer-registry';
import { PrintJobService } from './printing/print-job-service';
import { RefundService } from './printing/refunds';
import { QuotaService } from './quotas/quota-service';
import { ActivityReports } from './reports/activity';
import { SettingsService } from './settings/settings-service';
import { GroupService } from './users/group-service';
import { UserService } from './users/user-service';

export interface Services {
  db: Database;
  settings: SettingsService;
  ledger: LedgerService;
  users: UserService;
  groups: GroupService;
  rateCards: RateCardStore;
  printers: PrinterRegistry;
  printing: PrintJobService;
  quotas: QuotaService;
  internetSettings: InternetSettingsStore;
  internet: InternetChargingService;
  /** Changes made by people (balance changes, transfers, refund decisions), each audited once in the service, whoever calls it. */
  balances: BalanceChanges;
  transfers: UserTransfers;
  refunds: RefundService;
  reports: ActivityReports;
  /** Shared accounts, their access lists and each user's active account. */
  accounts: SharedAccounts;
  /** Per-user allocation accounts: their limit, schedule and each user's balance on them. */
  allocations: Allocations;
  /** Top-up cards: batches, redemption (audited, throttled). */
  cards: CardService;
  /** REST API clients (OAuth 2 client credentials) and their bearer tokens. */
  apiClients: ApiClientService;
}

export function createServices(db: Database, opts: { now?: () => number; timezone?: string; quotaCatchUpDays?: number } = {}): Services {
  const now = opts.now ?? Date.now;
  const settings = new SettingsService({ db });
  const ledger = new LedgerService({ db, settings, now });
  const users = new UserService({ db, ledger, settings, now });
  const groups = new GroupService({ db, now });
  const rateCards = new RateCardStore({ db, now });
  const printers = new PrinterRegistry({ db, rateCards, settings, now });
  const printing = new PrintJobService({ db, printers, users, settings, now });
  const quotas = new QuotaService({
    db,
    now,
    ...(opts.timezone !== undefined && { timezone: opts.timezone }),
    ...(opts.quotaCatchUpDays !== undefined && { catchUpDays: opts.quotaCatchUpDays }),
  });
  const internetSettings = new InternetSettingsStore({ db });
  const internet = new InternetChargingService({ db, settings, users, internetSettings, now });
  const balances = new BalanceChanges({ db, users, ledger, now });
  const transfers = new UserTransfers({ services: { db, settings, users, ledger }, now });
  const refunds = new RefundService({ db, users, ledger, now });
  const reports = new ActivityReports({ db });
  const accounts = new SharedAccounts({ db, users, now, ...(opts.timezone !== undefined && { timezone: opts.timezone }) });
  const allocations = new Allocations({ db, accounts, quotas, now });
  const cards = new CardService({ db, ledger, users, now, ...(opts.timezone !== undefined && { timezone: opts.timezone }) });
  const apiClients = new ApiClientService({ db, now });
  return {
    db,
    settings,
    ledger,
    users,
    groups,
    rateCards,
    printers,
    printing,
    quotas,
    internetSettings,
    internet,
    balances,
    transfers,
    refunds,
    reports,
    accounts,
    allocations,
    cards,
    apiClients,
  };
}
