/**
 * Printers as the charge path needs them: found (or registered, with the default rate card) by
 * secondary and queue name, with their validated rate cards, through a short cache so a batch of
 * jobs costs no printer queries. Changes made by an administrator take effect within CACHE_MS.
 */
import { NotFoundError, ValidationError } from '../../common/errors';
import { recordAudit } from '../audit/audit-log';
import type { Knex } from 'knex';
import type { Database } from '../db/connection';
import { isUniqueViolation } from '../db/errors';
import { runKnexTransaction } from '../db/sql-runner';
import type { RateCard } from '../pricing/rate-card';
import type { RateCardStore } from '../pricing/rate-card-store';
import type { SettingsService } from '../settings/settings-service';
import { readStoredFilters, type PrinterFilters } from './printer-filters';

export type FailureMode = 'charge_later' | 'hold' | 'deny' | 'free';
export const FAILURE_MODES: readonly FailureMode[] = ['charge_later', 'hold', 'deny', 'free'];
/**
 * What a job whose pages nothing can count gets (docs/page-analysis.md): held for an administrator
 * (the default: never printed free, never overcharged without a decision), or charged as the
 * printer's max-pages filter (held when it has none).
 */
export type UnknownPageCount = 'hold' | 'charge-maximum';
export const UNKNOWN_PAGE_COUNTS: readonly UnknownPageCount[] = ['hold', 'charge-maximum'];

export interface Printer {
  id: number;
  serverName: string;
  queueName: string;
  enabled: boolean;
  chargingEnabled: boolean;
  failureMode: FailureMode;
  unknownPageCount: UnknownPageCount;
  rateCardId: number | null;
  /** Its filters (printer-filters.ts); null when the stored JSON is not valid filters (its jobs are then refused). */
  filters: PrinterFilters | null;
}

interface PrinterRow {
  id: number;
  server_name: string;
  queue_name: string;
  enabled: number | boolean;
  charging_enabled: number | boolean;
  failure_mode: FailureMode;
  unknown_page_count: string;
  rate_card_id: number | null;
  filters: string;
}

function toPrinter(row: PrinterRow): Printer {
  return {
    id: row.id,
    serverName: row.server_name,
    queueName: row.queue_name,
    enabled: Boolean(row.enabled),
    chargingEnabled: Boolean(row.charging_enabled),
    failureMode: row.failure_mode,
    // Anything else stored (a newer primary's value) reads as the safe default.
    unknownPageCount: row.unknown_page_count === 'charge-maximum' ? 'charge-maximum' : 'hold',
    rateCardId: row.rate_card_id,
    filters: readStoredFilters(row.filters) ?? null,
  };
}

/** A printer as administrators see it: the charge path's view plus its names and rate card name. */
export interface PrinterInfo extends Printer {
  displayName: string;
  location: string;
  rateCard: string | null;
  /** What printers.filters holds, as stored (shown when it cannot be read). */
  filtersText: string;
}

/** What an administrator may change; fields left out keep their values. */
export interface PrinterChanges {
  rateCardId?: number;
  failureMode?: FailureMode;
  unknownPageCount?: UnknownPageCount;
  enabled?: boolean;
  chargingEnabled?: boolean;
  /** Already validated (parseFilters); {} clears every filter. */
  filters?: PrinterFilters;
}

interface InfoRow extends PrinterRow {
  display_name: string;
  location: string;
  rate_card_name: string | null;
}

function toInfo(row: InfoRow): PrinterInfo {
  return { ...toPrinter(row), displayName: row.display_name, location: row.location, rateCard: row.rate_card_name, filtersText: row.filters };
}

/** The audit action of a printer change: a change of filters or of `enabled` alone has its own. */
function auditAction(fields: string[], enabled: boolean | undefined): string {
  if (fields.length === 1 && fields[0] === 'filters') return 'printer.filters';
  if (fields.length === 1 && fields[0] === 'enabled') return enabled ? 'printer.enable' : 'printer.disable';
  return 'printer.update';
}

const CACHE_MS = 5000;
const DEFAULT_CARD = {
  prices: [
    { paperSize: '*', colour: 'grey', sides: 'simplex', pricePerPage: 10 },
    { paperSize: '*', colour: 'colour', sides: 'simplex', pricePerPage: 50 },
  ],
};

export interface PrinterDetails {
  description?: string;
  location?: string;
  deviceUri?: string;
}

export class PrinterRegistry {
  private readonly db: Database;
  private readonly rateCards: RateCardStore;
  private readonly settings: SettingsService;
  private readonly now: () => number;
  private readonly printers = new Map<string, { at: number; printer: Printer }>();
  private readonly cards = new Map<number, { at: number; card: RateCard }>();

  constructor(deps: { db: Database; rateCards: RateCardStore; settings: SettingsService; now?: () => number }) {
    this.db = deps.db;
    this.rateCards = deps.rateCards;
    this.settings = deps.settings;
    this.now = deps.now ?? Date.now;
  }

  /** The printer for a secondary's queue, registered on first sight with the default rate card. */
  async resolve(serverName: string, queueName: string, details: PrinterDetails = {}): Promise<Printer> {
    const key = `${serverName}\u0000${queueName}`;
    const cached = this.printers.get(key);
    if (cached && Date.now() - cached.at < CACHE_MS) return cached.printer;
    let row = (await this.db.knex('printers').where({ server_name: serverName, queue_name: queueName }).first()) as PrinterRow | undefined;
    if (!row) {
      const rateCardId = await this.defaultRateCardId();
      const now = this.now();
      try {
        await this.db.knex('printers').insert({
          server_name: serverName,
          queue_name: queueName,
          display_name: details.description ?? '',
          location: details.location ?? '',
          device_uri: details.deviceUri ?? '',
          rate_card_id: rateCardId,
          filters: '{}',
          created_at: now,
          updated_at: now,
          last_seen_at: now,
        });
      } catch (err) {
        if (!isUniqueViolation(err)) throw err; // registered by a concurrent call: read it below
      }
      row = (await this.db.knex('printers').where({ server_name: serverName, queue_name: queueName }).first()) as PrinterRow;
    } else if (details.deviceUri !== undefined || details.description !== undefined || details.location !== undefined) {
      await this.db
        .knex('printers')
        .where({ id: row.id })
        .update({
          ...(details.description !== undefined && { display_name: details.description }),
          ...(details.location !== undefined && { location: details.location }),
          ...(details.deviceUri !== undefined && { device_uri: details.deviceUri }),
          last_seen_at: this.now(),
        });
    }
    const printer = toPrinter(row);
    this.printers.set(key, { at: Date.now(), printer });
    return printer;
  }

  /** A printer's validated rate card, or undefined when it has none (its jobs are then refused). */
  async rateCardOf(printer: Printer): Promise<RateCard | undefined> {
    return printer.rateCardId === null ? undefined : this.rateCard(printer.rateCardId);
  }

  /** A rate card by id, validated, through the cache. */
  async rateCard(id: number): Promise<RateCard> {
    const cached = this.cards.get(id);
    if (cached && Date.now() - cached.at < CACHE_MS) return cached.card;
    const { card } = await this.rateCards.get(id);
    this.cards.set(id, { at: Date.now(), card });
    return card;
  }

  /** Forgets every cached printer, so a change made outside update() applies here at once. */
  forgetPrinters(): void {
    this.printers.clear();
  }

  /** Drops a rate card from this process's cache after it changed, so the next job is priced by the new rows. */
  forgetRateCard(id: number): void {
    this.cards.delete(id);
  }

  /** Printers of one secondary, for the configuration pushed to it. */
  async ofSecondary(serverName: string): Promise<Printer[]> {
    return ((await this.db.knex('printers').where({ server_name: serverName }).orderBy('queue_name')) as PrinterRow[]).map(toPrinter);
  }

  /** Every printer, by server and queue. */
  async list(): Promise<PrinterInfo[]> {
    return (await this.infoQuery(this.db.knex).orderBy(['printers.server_name', 'printers.queue_name'])).map(toInfo);
  }

  /** A printer named `server/queue` (CUPS queue names cannot hold a slash); NotFoundError when there is none. */
  async find(ref: string): Promise<PrinterInfo> {
    const slash = ref.indexOf('/');
    if (slash <= 0 || slash === ref.length - 1)
      throw new ValidationError(`name a printer as server/queue, e.g. print-1/library-laser: ${JSON.stringify(ref.slice(0, 100))}`, { field: 'printer' });
    const row = await this.infoQuery(this.db.knex)
      .where({ 'printers.server_name': ref.slice(0, slash), 'printers.queue_name': ref.slice(slash + 1) })
      .first();
    if (!row) throw new NotFoundError('printer', ref);
    return toInfo(row as InfoRow);
  }

  /**
   * Changes a printer and writes what changed (from → to) to the audit log in the same
   * transaction: `printer.filters` for a change of filters alone, `printer.enable` or
   * `printer.disable` for a change of `enabled` alone, else `printer.update`. This
   * process's cache forgets its printers at once; other primaries see the change within CACHE_MS.
   */
  async update(id: number, changes: PrinterChanges, actor: string): Promise<PrinterInfo> {
    if (changes.failureMode !== undefined && !FAILURE_MODES.includes(changes.failureMode)) {
      throw new ValidationError(`unknown failure mode ${String(changes.failureMode)}; one of ${FAILURE_MODES.join(', ')}`, { field: 'failureMode' });
    }
    if (changes.unknownPageCount !== undefined && !UNKNOWN_PAGE_COUNTS.includes(changes.unknownPageCount)) {
      throw new ValidationError(`unknown unknownPageCount ${String(changes.unknownPageCount)}; one of ${UNKNOWN_PAGE_COUNTS.join(', ')}`, {
        field: 'unknownPageCount',
      });
    }
    const card = changes.rateCardId === undefined ? undefined : await this.rateCards.get(changes.rateCardId);
    const updated = await runKnexTransaction(this.db, async (trx) => {
      const before = (await this.infoQuery(trx).where({ 'printers.id': id }).first()) as InfoRow | undefined;
      if (!before) throw new NotFoundError('printer', id);
      const was = toInfo(before);
      const row: Record<string, unknown> = {};
      const diff: Record<string, { from: unknown; to: unknown }> = {};
      const change = (field: string, column: string, from: unknown, to: unknown, stored: unknown = to): void => {
        if (JSON.stringify(from) === JSON.stringify(to)) return;
        diff[field] = { from, to };
        row[column] = stored;
      };
      if (card) change('rateCard', 'rate_card_id', was.rateCard, card.name, card.id);
      if (changes.failureMode !== undefined) change('failureMode', 'failure_mode', was.failureMode, changes.failureMode);
      if (changes.unknownPageCount !== undefined) change('unknownPageCount', 'unknown_page_count', was.unknownPageCount, changes.unknownPageCount);
      if (changes.enabled !== undefined) change('enabled', 'enabled', was.enabled, changes.enabled);
      if (changes.chargingEnabled !== undefined) change('chargingEnabled', 'charging_enabled', was.chargingEnabled, changes.chargingEnabled);
      if (changes.filters !== undefined) change('filters', 'filters', was.filters ?? was.filtersText, changes.filters, JSON.stringify(changes.filters));
      const fields = Object.keys(diff);
      if (fields.length === 0) return was;
      const now = this.now();
      await trx('printers')
        .where({ id })
        .update({ ...row, updated_at: now });
      const action = auditAction(fields, changes.enabled);
      await recordAudit(trx, { actor, action, targetType: 'printer', targetId: `${was.serverName}/${was.queueName}`, details: diff }, now);
      return toInfo((await this.infoQuery(trx).where({ 'printers.id': id }).first()) as InfoRow);
    });
    this.printers.clear();
    return updated;
  }

  private infoQuery(k: Knex | Knex.Transaction): Knex.QueryBuilder {
    return k('printers').leftJoin('rate_cards', 'rate_cards.id', 'printers.rate_card_id').select('printers.*', 'rate_cards.name as rate_card_name');
  }

  private async defaultRateCardId(): Promise<number> {
    const name = await this.settings.get('printing.defaultRateCard');
    try {
      return (await this.rateCards.getByName(name)).id;
    } catch (err) {
      if ((err as { code?: string }).code !== 'NOT_FOUND') throw err;
      try {
        return (await this.rateCards.save(name, DEFAULT_CARD, 'system:default-rate-card')).id;
      } catch (again) {
        if (!isUniqueViolation(again)) throw again;
        return (await this.rateCards.getByName(name)).id;
      }
    }
  }
}
