/**
 * What every CLI command shares: the database options, opening the services from them, the actor
 * name written to the ledger and audit log, and turning errors into a message and an exit code.
 */
import os from 'node:os';
import { Command, Option } from 'commander';
import { isQuotientError } from '../../common/errors';
import { createLogger } from '../../common/logger';
import { parseAmount, type CurrencyFormat, type Money } from '../../common/money';
import { openPrimaryDatabase } from '../boot';
import { loadPrimaryConfig, type PrimaryConfig } from '../config';
import { createServices, type Services } from '../services';

export interface DatabaseFlags {
  dataDir?: string;
  databaseUrl?: string;
  config?: string;
}

/** Adds --data-dir, --database-url and --config (each also an environment variable) to a command. */
export function withDatabaseOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--data-dir <dir>', 'data directory (holds the SQLite database)').env('QUOTIENT_DATA_DIR'))
    .addOption(new Option('--database-url <url>', 'sqlite:PATH or mysql://user:password@host:port/database').env('QUOTIENT_DATABASE_URL'))
    .addOption(new Option('--config <file>', 'JSON config file').env('QUOTIENT_CONFIG'));
}

export function configFromFlags(flags: DatabaseFlags & Record<string, unknown>, extra: Partial<Record<keyof PrimaryConfig, unknown>> = {}): PrimaryConfig {
  return loadPrimaryConfig({
    file: flags.config,
    flags: { dataDir: flags.dataDir, databaseUrl: flags.databaseUrl, ...extra },
  });
}

/** Opens the database (migrating it if needed), runs `work` with the services (in the configured time zone, as the primary's), and closes it. */
export async function withServices<T>(flags: DatabaseFlags, work: (s: Services, config: PrimaryConfig) => Promise<T>): Promise<T> {
  const config = configFromFlags(flags as DatabaseFlags & Record<string, unknown>);
  const logger = createLogger('quotient-cli', process.env.QUOTIENT_LOG_LEVEL ?? 'warn');
  const db = await openPrimaryDatabase(config, logger);
  try {
    return await work(createServices(db, { timezone: config.timezone, quotaCatchUpDays: config.quotaCatchUpDays }), config);
  } finally {
    await db.close();
  }
}

/** Who did it, as written in ledger rows and the audit log: cli:<operating-system user>. */
export function cliActor(): string {
  let name = 'unknown';
  try {
    name = os.userInfo().username;
  } catch {
    // no passwd entry for this uid (containers): keep "unknown"
  }
  return `cli:${name}`;
}

export async function amountArg(services: Services, text: string, field: string): Promise<{ amount: Money; currency: CurrencyFormat }> {
  const currency = await services.settings.currency();
  return { amount: parseAmount(text, currency.decimals, field), currency };
}

/** Prints rows as aligned columns. */
export function printTable(headers: string[], rows: (string | number)[][]): void {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  for (const row of cells)
    console.log(
      row
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    );
}

/** Runs a command action; known errors print "error: ..." and exit 1, unknown ones also print a stack. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      if (isQuotientError(err)) {
        console.error(`error: ${err.message}`);
      } else {
        console.error(`error: ${(err as Error).message ?? String(err)}`);
        if (process.env.QUOTIENT_DEBUG) console.error((err as Error).stack);
      }
      process.exitCode = 1;
    }
  };
}
