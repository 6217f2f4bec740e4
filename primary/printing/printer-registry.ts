/**
 * Printers as the charge path needs them: found (or registered, with the default rate card) by
 * secondary and queue name, with their validated rate cards, through a short cache so a batch of
 * jobs costs no printer queries. Changes made by an administrator take effect within CACHE_MS.
 */
import type { Database } from '../db/connection';
import { isUniqueViolation } from '../db/errors';
import type { RateCard } from '../pricing/rate-card';
import type { RateCardStore } from '../pricing/rate-card-store';
import type { SettingsService } from '../settings/settings-service';

export type FailureMode = 'charge_later' | 'hold' | 'deny' | 'free';

export interface Printer {
  id: number;
  serverName: string;
  queueName: string;
  enabled: boolean;
  chargingEnabled: boolean;
  failureMode: FailureMode;
  rateCardId: number | null;
}

interface PrinterRow {
  id: number;
  server_name: string;
  queue_name: string;
  enabled: number | boolean;
  charging_enabled: number | boolean;
  failure_mode: FailureMode;
  rate_card_id: number | null;
}

function toPrinter(row: PrinterRow): Printer {
  return {
    id: row.id,
    serverName: row.server_name,
    queueName: row.queue_name,
    enabled: Boolean(row.enabled),
    chargingEnabled: Boolean(row.charging_enabled),
    failureMode: row.failure_mode,
    rateCardId: row.rate_card_id,
  };
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
      await this.db.knex('printers').where({ id: row.id }).update({
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

  /** Printers of one secondary, for the configuration pushed to it. */
  async ofSecondary(serverName: string): Promise<Printer[]> {
    return ((await this.db.knex('printers').where({ server_name: serverName }).orderBy('queue_name')) as PrinterRow[]).map(toPrinter);
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
