/**
 * What the primary pushed to this secondary on Cluster.Watch (and in the Register answer): the
 * configuration (per-printer failure modes) and the set of blocked users. Kept in memory for the
 * local endpoint's decisions and persisted in the data directory, so that a secondary restarted
 * while its primary is down still applies the right failure modes.
 */
import type { Logger } from '../common/logger';
import type { BlockChange__Output } from '../protos/generated/quotient/v1/BlockChange';
import type { FailureMode__Output } from '../protos/generated/quotient/v1/FailureMode';
import type { PrinterConfig__Output } from '../protos/generated/quotient/v1/PrinterConfig';
import type { SecondaryConfig__Output } from '../protos/generated/quotient/v1/SecondaryConfig';

export type FailureModeName = 'charge_later' | 'hold' | 'deny' | 'free';
export type UnknownPageCountName = 'hold' | 'charge-maximum';

export interface PrinterPolicy {
  enabled: boolean;
  failureMode: FailureModeName;
  /** A job whose pages nothing could count: held for an administrator, or charged `maximumPages`. */
  unknownPageCount: UnknownPageCountName;
  /** The pages charged under charge-maximum (the printer's max-pages filter); 0 = none (held). */
  maximumPages: number;
}

/** A printer the primary never configured. */
export const DEFAULT_PRINTER_POLICY: PrinterPolicy = { enabled: true, failureMode: 'charge_later', unknownPageCount: 'hold', maximumPages: 0 };

/** Where the state is kept between runs: the outbox database's key/value table. */
export interface StateStore {
  getMeta(key: string): string | undefined;
  putMeta(key: string, value: string): Promise<void>;
}

interface Persisted {
  config: SecondaryConfig__Output | undefined;
  blocked: [string, string][];
  savedAt: number;
}

const KEY = 'control-state';
const BLOCKED_SAVE_DELAY_MS = 1000;

export function failureModeName(mode: FailureMode__Output | undefined): FailureModeName {
  switch (mode) {
    case 'FAILURE_MODE_HOLD':
      return 'hold';
    case 'FAILURE_MODE_DENY':
      return 'deny';
    case 'FAILURE_MODE_FREE':
      return 'free';
    default:
      // Unspecified or unknown (a newer primary): the documented default.
      return 'charge_later';
  }
}

function policyOf(p: PrinterConfig__Output): PrinterPolicy {
  return {
    enabled: p.enabled,
    failureMode: failureModeName(p.failureMode),
    // Unspecified (an older primary) or unknown (a newer one): the safe default, hold.
    unknownPageCount: p.unknownPageCount === 'UNKNOWN_PAGE_COUNT_CHARGE_MAXIMUM' ? 'charge-maximum' : 'hold',
    maximumPages: Number.isInteger(p.unknownPageCountPages) && p.unknownPageCountPages > 0 ? p.unknownPageCountPages : 0,
  };
}

export class ControlState {
  private config: SecondaryConfig__Output | undefined;
  private printers = new Map<string, PrinterPolicy>();
  private blocked = new Map<string, string>();
  private saveTimer: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly logger: Logger,
    private readonly store?: StateStore,
  ) {
    this.load();
  }

  /** The printer's policy as last pushed; unknown printers get the default (enabled, charge later). */
  printer(queue: string): PrinterPolicy {
    return this.printers.get(queue) ?? DEFAULT_PRINTER_POLICY;
  }

  /** Why a user is blocked, or undefined when they are not. */
  blockedReason(username: string): string | undefined {
    return this.blocked.get(username);
  }

  get blockedCount(): number {
    return this.blocked.size;
  }

  get hasConfig(): boolean {
    return this.config !== undefined;
  }

  get usageReportIntervalSeconds(): number | undefined {
    return this.config?.usageReportIntervalSeconds || undefined;
  }

  applyConfig(config: SecondaryConfig__Output): void {
    this.config = config;
    this.printers = new Map(config.printers.map((p) => [p.queue, policyOf(p)] as const));
    this.logger.info({ printers: config.printers.length }, 'configuration from the primary applied');
    this.saveNow();
  }

  applySnapshot(users: BlockChange__Output[]): void {
    this.blocked = new Map(users.filter((u) => u.blocked).map((u) => [u.username, u.reason || 'blocked'] as const));
    this.saveNow();
  }

  applyBlockChange(change: BlockChange__Output): void {
    if (change.blocked) this.blocked.set(change.username, change.reason || 'blocked');
    else this.blocked.delete(change.username);
    this.saveSoon();
  }

  /** Writes what is pending; resolves when it is durable (or failed, which is logged). */
  async flush(): Promise<void> {
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = undefined;
      this.saveNow();
    }
    await this.saving;
  }

  private load(): void {
    const text = this.store?.getMeta(KEY);
    if (!text) return;
    try {
      const saved = JSON.parse(text) as Persisted;
      if (saved.config) {
        this.config = saved.config;
        this.printers = new Map(saved.config.printers.map((p) => [p.queue, policyOf(p)] as const));
      }
      this.blocked = new Map(saved.blocked);
      this.logger.info({ savedAt: new Date(saved.savedAt).toISOString(), printers: this.printers.size }, 'last configuration from the primary restored');
    } catch (err) {
      this.logger.warn({ err }, 'the saved configuration from the primary is unreadable; using defaults until the primary sends it');
    }
  }

  private saveSoon(): void {
    if (this.saveTimer || !this.store) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.saveNow();
    }, BLOCKED_SAVE_DELAY_MS);
    this.saveTimer.unref();
  }

  private saveNow(): void {
    const store = this.store;
    if (!store) return;
    const state: Persisted = { config: this.config, blocked: [...this.blocked], savedAt: Date.now() };
    this.saving = this.saving
      .then(() => store.putMeta(KEY, JSON.stringify(state)))
      .catch((err: unknown) => this.logger.warn({ err }, 'cannot save the configuration from the primary; it is kept in memory'));
  }
}
