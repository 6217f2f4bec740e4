/**
 * `quotient internet show|set`: internet charging settings (the `internet.*` rows that
 * InternetSettingsStore validates and keeps). Values are parsed here from what an admin types
 * (amounts in the site's currency, yes/no, comma-separated lists), checked in full before
 * anything is written, and every change is written to the audit log like the web tools' settings.
 */
import { Command, Option } from 'commander';
import { ValidationError } from '../../../common/errors';
import { formatAmount, parseAmount, type CurrencyFormat } from '../../../common/money';
import { recordAudit } from '../../audit/audit-log';
import { USAGE_REPORT_INTERVAL_SECONDS } from '../../grpc/cluster-service';
import type { InternetSettings } from '../../internet/internet-settings';
import { action, cliActor, withDatabaseOptions, withServices, type DatabaseFlags } from '../context';

type StoredKey = keyof InternetSettings;

interface KeySpec {
  /** The stored setting it changes. */
  stores: StoredKey;
  help: string;
  parse(text: string, currency: CurrencyFormat): unknown;
}

const PRICE_DIGITS = 3; // costPerMbMilli: thousandths of a minor unit

function nonNegativeAmount(text: string, decimals: number, key: string): number {
  const value = parseAmount(text, decimals, key);
  if (value < 0) throw new ValidationError(`${key} must not be negative: ${text}`, { field: key });
  return value;
}

function wholeNumber(text: string, key: string, max: number): number {
  if (!/^\d{1,16}$/.test(text.trim())) throw new ValidationError(`${key} must be a whole number 0..${max}: ${JSON.stringify(text)}`, { field: key });
  const value = Number(text.trim());
  if (value > max) throw new ValidationError(`${key} must be a whole number 0..${max}: ${text}`, { field: key });
  return value;
}

function yesNo(text: string, key: string): boolean {
  const v = text.trim().toLowerCase();
  if (['yes', 'true', 'on', '1'].includes(v)) return true;
  if (['no', 'false', 'off', '0'].includes(v)) return false;
  throw new ValidationError(`${key} takes yes or no: ${JSON.stringify(text)}`, { field: key });
}

/** "a.org, b.org" or a JSON array; "" (or "none") is the empty list. */
function list(text: string, key: string): string[] {
  const t = text.trim();
  if (t === '' || t.toLowerCase() === 'none') return [];
  if (t.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(t);
    } catch {
      throw new ValidationError(`${key}: not a JSON array: ${t.slice(0, 100)}`, { field: key });
    }
    if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string'))
      throw new ValidationError(`${key}: a JSON array of strings is needed`, { field: key });
    return parsed;
  }
  const items = t.split(',').map((x) => x.trim());
  if (items.some((x) => x === '')) throw new ValidationError(`${key}: an empty name in the list ${JSON.stringify(text)}`, { field: key });
  return items;
}

const KEYS: Record<string, KeySpec> = {
  costPerMb: {
    stores: 'costPerMbMilli',
    help: `price per MB (1,048,576 bytes) in the site currency, up to ${PRICE_DIGITS} more decimals than it has: 0.025`,
    parse: (text, c) => nonNegativeAmount(text, c.decimals + PRICE_DIGITS, 'costPerMb'),
  },
  costPerMbMilli: {
    stores: 'costPerMbMilli',
    help: 'price per MB in thousandths of a minor unit: 2500 is 2.5 cents',
    parse: (text) => wholeNumber(text, 'costPerMbMilli', 10_000_000_000_000),
  },
  chargeCacheHits: {
    stores: 'chargeCacheHits',
    help: "yes or no: charge bytes served from Squid's cache (no: cache hits are free)",
    parse: (text) => yesNo(text, 'chargeCacheHits'),
  },
  chargeUploads: {
    stores: 'chargeUploads',
    help: 'yes or no: charge bytes the client sent (no: uploads are free)',
    parse: (text) => yesNo(text, 'chargeUploads'),
  },
  zeroRatedDomains: {
    stores: 'zeroRatedDomains',
    help: 'hosts free of charge, each with every name under it, comma-separated ("" for none): intranet.example.edu,library.example.edu',
    parse: (text) => list(text, 'zeroRatedDomains'),
  },
  zeroRatedUsers: {
    stores: 'zeroRatedUsers',
    help: 'users whose usage is recorded but free, comma-separated ("" for none)',
    parse: (text) => list(text, 'zeroRatedUsers'),
  },
  periodMinutes: {
    stores: 'periodMinutes',
    help: 'time-period charging: length of a period in minutes, 0..1440 (0 turns it off)',
    parse: (text) => wholeNumber(text, 'periodMinutes', 24 * 60),
  },
  periodCost: {
    stores: 'periodCost',
    help: 'time-period charging: what each period with activity costs, in the site currency: 0.10',
    parse: (text, c) => nonNegativeAmount(text, c.decimals, 'periodCost'),
  },
};

/** Not stored on the primary (yet): refused with where it is set instead. */
const REPORT_INTERVAL_KEYS = new Set(['reportInterval', 'reportIntervalSeconds', 'usageReportIntervalSeconds']);

function describe(key: StoredKey, s: InternetSettings, c: CurrencyFormat): string {
  switch (key) {
    case 'costPerMbMilli':
      return `${pricePerMb(s.costPerMbMilli, c)} per MB`;
    case 'chargeCacheHits':
      return s.chargeCacheHits ? 'cache hits are charged' : 'cache hits are free';
    case 'chargeUploads':
      return s.chargeUploads ? 'uploads are charged' : 'uploads are free';
    case 'periodMinutes':
      return s.periodMinutes > 0 && s.periodCost > 0
        ? `each ${s.periodMinutes}-minute period with activity costs ${formatAmount(s.periodCost, c)}`
        : 'no time-period charging';
    case 'periodCost':
      return formatAmount(s.periodCost, c);
    default:
      return '';
  }
}

/** A price in thousandths of a minor unit, in the currency with only the digits it needs: $0.025. */
function pricePerMb(milli: number, c: CurrencyFormat): string {
  const text = formatAmount(milli, { symbol: c.symbol, decimals: c.decimals + PRICE_DIGITS });
  const keep = c.decimals === 0 ? /\.?0{1,3}$/ : new RegExp(`0{1,${PRICE_DIGITS}}$`);
  return text.replace(keep, '');
}

function printSettings(s: InternetSettings, c: CurrencyFormat): void {
  for (const key of Object.keys(s) as StoredKey[]) {
    const note = describe(key, s, c);
    console.log(`${key} = ${JSON.stringify(s[key])}${note ? `  # ${note}` : ''}`);
  }
  console.log(`reportIntervalSeconds = ${USAGE_REPORT_INTERVAL_SECONDS}  # fixed on the primary; a secondary's proxyReportSeconds overrides it`);
}

export function internetCommand(): Command {
  const internet = new Command('internet').description(
    'internet charging settings (cost per MB, free cache hits and uploads, zero-rated domains and users, time periods)',
  );

  const show = new Command('show').description('show the internet charging settings').addOption(new Option('--json', 'print as JSON'));
  withDatabaseOptions(show).action(
    action(async (flags: DatabaseFlags & { json?: boolean }) => {
      await withServices(flags, async (s) => {
        const settings = await s.internetSettings.get();
        if (flags.json) return console.log(JSON.stringify({ ...settings, reportIntervalSeconds: USAGE_REPORT_INTERVAL_SECONDS }, null, 2));
        printSettings(settings, await s.settings.currency());
      });
    }),
  );

  const set = new Command('set')
    .description('change one internet charging setting')
    .argument('<key>', Object.keys(KEYS).join(', '))
    .argument('<value>', 'the new value (see below)')
    .addHelpText(
      'after',
      `\nKeys:\n${Object.entries(KEYS)
        .map(([k, spec]) => `  ${k.padEnd(17)} ${spec.help}`)
        .join('\n')}\n\nExample: quotient internet set costPerMb 0.025`,
    );
  withDatabaseOptions(set).action(
    action(async (key: string, value: string, flags: DatabaseFlags) => {
      if (REPORT_INTERVAL_KEYS.has(key)) {
        throw new ValidationError(
          `${key} is not a setting of the primary: secondaries report every ${USAGE_REPORT_INTERVAL_SECONDS} s unless their own proxyReportSeconds (QUOTIENT_PROXY_REPORT_SECONDS, 1..3600) says otherwise`,
          { field: key },
        );
      }
      const spec = KEYS[key];
      if (!spec) throw new ValidationError(`unknown internet setting ${key}; known: ${Object.keys(KEYS).join(', ')}`, { field: key });
      await withServices(flags, async (s) => {
        const currency = await s.settings.currency();
        const parsed = spec.parse(value, currency);
        const before = (await s.internetSettings.get())[spec.stores];
        const after = await s.internetSettings.set({ [spec.stores]: parsed });
        const stored = after[spec.stores];
        if (JSON.stringify(stored) !== JSON.stringify(before)) {
          await recordAudit(s.db.knex, {
            actor: cliActor(),
            action: 'settings.set',
            targetType: 'setting',
            targetId: `internet.${spec.stores}`,
            details: { from: before, to: stored },
          });
        }
        const note = describe(spec.stores, after, currency);
        console.log(`${spec.stores} = ${JSON.stringify(stored)}${note ? `  # ${note}` : ''}`);
      });
    }),
  );

  return internet.addCommand(show).addCommand(set);
}
