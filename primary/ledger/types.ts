/**
 * Shapes of the money core: accounts, ledger entries and reservations as services see them.
 */
import type { Money } from '../../common/money';

export const ENTRY_TYPES = ['print', 'net', 'quota', 'adjustment', 'refund', 'transfer', 'card', 'initial'] as const;
export type EntryType = (typeof ENTRY_TYPES)[number];

export interface Account {
  id: number;
  /** allocation: one user's balance on a per-user allocation account */
  type: 'personal' | 'shared' | 'allocation';
  userId: number | null;
  name: string;
  balance: Money;
  /** Sum of held reservations: spendable = balance - reserved. */
  reserved: Money;
  restricted: boolean;
  /** The account's own overdraft, or null for the site default. */
  creditLimit: Money | null;
  costMultiplierBp: number;
  enabled: boolean;
}

export interface LedgerEntry {
  id: number;
  accountId: number;
  amount: Money;
  balanceAfter: Money;
  type: EntryType;
  reference: string | null;
  actor: string | null;
  comment: string;
  idempotencyKey: string;
  createdAt: number;
  /** True when this call repeated an idempotency key and returned the first result. */
  replayed: boolean;
}

export type ReservationState = 'held' | 'committed' | 'released';

export interface Reservation {
  id: number;
  accountId: number;
  amount: Money;
  state: ReservationState;
  type: EntryType;
  reference: string | null;
  idempotencyKey: string;
  ledgerId: number | null;
  createdAt: number;
  settledAt: number | null;
  replayed: boolean;
}

/** Who and why, carried into every ledger row. */
export interface EntryMeta {
  /** Unique per change; repeating it returns the first result and changes nothing. */
  key: string;
  reference?: string | null;
  actor?: string | null;
  comment?: string;
}
