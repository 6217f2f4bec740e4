/**
 * `quotient printers list|show|set|filters`: the printers secondaries have registered
 * — rate card, failure mode, enabled, charging — and their filters (printer-filters.ts).
 * Flags are parsed and the result validated in full before anything is written; each change is
 * audited by PrinterRegistry.update(). A running primary picks a change up within 5 s.
 */
import { Command, Option } from 'commander';
import { isQuotientError, ValidationError } from '../../../common/errors';
import { formatAmount, parseAmount, type CurrencyFormat } from '../../../common/money';
import { parseFilters, type PrinterFilters } from '../../printing/printer-filters';
import {
  FAILURE_MODES,
  UNKNOWN_PAGE_COUNTS,
  type FailureMode,
  type PrinterChanges,
  type PrinterInfo,
  type UnknownPageCount,
} from '../../printing/printer-registry';
import { action, cliActor, printTable, withDatabaseOptions, withServices, type DatabaseFlags } from '../context';

const yesNo = (on: boolean): string => (on ? 'yes' : 'no');

function yesNoFlag(text: string, flag: string): boolean {
  const v = text.trim().toLowerCase();
  if (v === 'yes') return true;
  if (v === 'no') return false;
  throw new ValidationError(`${flag} takes yes or no: ${JSON.stringify(text)}`, { field: flag });
}

/** One line per filter, in plain words; none when nothing is restricted. */
export function describeFilters(f: PrinterFilters, c: CurrencyFormat): string[] {
  const lines: string[] = [];
  if (f.maxPages !== undefined) lines.push(`at most ${f.maxPages} pages per job (pages × copies)`);
  if (f.maxCopies !== undefined) lines.push(`at most ${f.maxCopies} copies per job`);
  if (f.maxCost !== undefined) lines.push(`at most ${formatAmount(f.maxCost, c)} per job`);
  if (f.colour === 'greyscaleOnly') lines.push('greyscale jobs only');
  if (f.colour === 'colourOnly') lines.push('colour jobs only');
  if (f.sides === 'duplexOnly') lines.push('double-sided jobs only (one-page jobs too)');
  if (f.sides === 'simplexOnly') lines.push('single-sided jobs only');
  if (f.allowedPaperSizes !== undefined) lines.push(`paper sizes: ${f.allowedPaperSizes.join(', ')}`);
  if (f.documentNames && f.documentNames.allow.length > 0) lines.push(`document names allowed: ${f.documentNames.allow.join(', ')}`);
  if (f.documentNames && f.documentNames.deny.length > 0) lines.push(`document names refused: ${f.documentNames.deny.join(', ')}`);
  if (f.duplicateWindowSeconds !== undefined) lines.push(`duplicates refused within ${f.duplicateWindowSeconds} s`);
  return lines;
}

function filterSummary(p: PrinterInfo, c: CurrencyFormat): string {
  if (p.filters === null) return 'UNREADABLE (every job is refused)';
  const lines = describeFilters(p.filters, c);
  return lines.length === 0 ? 'none' : lines.join('; ');
}

interface FilterFlags {
  maxPages?: string;
  maxCopies?: string;
  maxCost?: string;
  colourOnly?: boolean;
  greyscaleOnly?: boolean;
  anyColour?: boolean;
  duplexOnly?: boolean;
  simplexOnly?: boolean;
  anySides?: boolean;
  paperSizes?: string;
  nameAllow?: string;
  nameDeny?: string;
  duplicateWindow?: string;
  clear?: boolean;
}

/** The flag each stored field comes from, for messages. */
const FLAG_OF: Record<string, string> = {
  maxPages: '--max-pages',
  maxCopies: '--max-copies',
  maxCost: '--max-cost',
  colour: '--colour-only/--greyscale-only',
  sides: '--duplex-only/--simplex-only',
  allowedPaperSizes: '--paper-sizes',
  'documentNames.allow': '--name-allow',
  'documentNames.deny': '--name-deny',
  duplicateWindowSeconds: '--duplicate-window',
};

const isOff = (text: string): boolean => ['none', 'off', ''].includes(text.trim().toLowerCase());

function count(text: string, flag: string): number | undefined {
  if (isOff(text)) return undefined;
  if (!/^\d{1,16}$/.test(text.trim())) throw new ValidationError(`${flag} takes a whole number, or none: ${JSON.stringify(text)}`, { field: flag });
  return Number(text.trim());
}

/** "a,b" or a JSON array (for names holding commas); "none" is the empty list. */
function list(text: string, flag: string): string[] {
  const t = text.trim();
  if (isOff(t)) return [];
  if (t.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(t);
    } catch {
      throw new ValidationError(`${flag}: not a JSON array: ${t.slice(0, 100)}`, { field: flag });
    }
    if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string'))
      throw new ValidationError(`${flag}: a JSON array of strings is needed`, { field: flag });
    return parsed;
  }
  const items = t.split(',').map((x) => x.trim());
  if (items.some((x) => x === '')) throw new ValidationError(`${flag}: an empty entry in the list ${JSON.stringify(text)}`, { field: flag });
  return items;
}

function oneOf<T>(flags: [boolean | undefined, string, T][], current: T): T {
  const given = flags.filter(([on]) => on === true);
  if (given.length > 1) throw new ValidationError(`${given.map(([, f]) => f).join(' and ')} cannot be given together`);
  return given.length === 1 ? (given[0] as [boolean, string, T])[2] : current;
}

/** The filters after applying the flags to `current` (or to none, with --clear), validated. */
export function applyFilterFlags(current: PrinterFilters, flags: FilterFlags, currency: CurrencyFormat): PrinterFilters {
  const f: Record<string, unknown> = flags.clear ? {} : structuredClone(current);
  const put = (key: string, value: unknown): void => {
    if (value === undefined || (Array.isArray(value) && value.length === 0)) delete f[key];
    else f[key] = value;
  };
  if (flags.maxPages !== undefined) put('maxPages', count(flags.maxPages, '--max-pages'));
  if (flags.maxCopies !== undefined) put('maxCopies', count(flags.maxCopies, '--max-copies'));
  if (flags.maxCost !== undefined) {
    const cost = isOff(flags.maxCost) ? undefined : parseAmount(flags.maxCost, currency.decimals, '--max-cost');
    if (cost !== undefined && cost < 0) throw new ValidationError(`--max-cost must not be negative: ${flags.maxCost}`, { field: '--max-cost' });
    put('maxCost', cost);
  }
  put(
    'colour',
    oneOf(
      [
        [flags.colourOnly, '--colour-only', 'colourOnly'],
        [flags.greyscaleOnly, '--greyscale-only', 'greyscaleOnly'],
        [flags.anyColour, '--any-colour', undefined],
      ],
      f.colour,
    ),
  );
  put(
    'sides',
    oneOf(
      [
        [flags.duplexOnly, '--duplex-only', 'duplexOnly'],
        [flags.simplexOnly, '--simplex-only', 'simplexOnly'],
        [flags.anySides, '--any-sides', undefined],
      ],
      f.sides,
    ),
  );
  if (flags.paperSizes !== undefined)
    put('allowedPaperSizes', flags.paperSizes.trim().toLowerCase() === 'any' ? undefined : list(flags.paperSizes, '--paper-sizes'));
  if (flags.nameAllow !== undefined || flags.nameDeny !== undefined) {
    const names = (f.documentNames as { allow?: string[]; deny?: string[] } | undefined) ?? {};
    put('documentNames', {
      allow: flags.nameAllow !== undefined ? list(flags.nameAllow, '--name-allow') : (names.allow ?? []),
      deny: flags.nameDeny !== undefined ? list(flags.nameDeny, '--name-deny') : (names.deny ?? []),
    });
  }
  if (flags.duplicateWindow !== undefined) put('duplicateWindowSeconds', count(flags.duplicateWindow, '--duplicate-window') || undefined);
  try {
    return parseFilters(f);
  } catch (err) {
    if (!isQuotientError(err)) throw err;
    // "filters.maxPages must be ..." -> "--max-pages must be ...": name what the admin typed.
    const field = String(err.details.field ?? '').replace(/^filters\.?/, '');
    const key = Object.keys(FLAG_OF).find((k) => field === k || field.startsWith(`${k}.`));
    const flag = key === undefined ? undefined : FLAG_OF[key];
    if (flag === undefined) throw err;
    throw new ValidationError(
      err.message.replace(
        /^filters\.[\w.]*/,
        `${flag}${field === key ? '' : field.slice(key?.length ?? 0).replace(/^\.(\d+)/, (_, i: string) => ` entry ${Number(i) + 1}`)}`,
      ),
      { field: flag },
    );
  }
}

/** What a job whose pages cannot be counted gets on this printer, as the secondary will apply it. */
function unknownPagesText(p: PrinterInfo): string {
  if (p.unknownPageCount === 'hold') return 'hold (held in CUPS for an administrator, not charged)';
  const max = p.filters?.maxPages;
  return max === undefined
    ? 'charge-maximum, but no --max-pages filter is set: such jobs are held'
    : `charge-maximum (charged as ${max} pages, the --max-pages filter)`;
}

function printPrinter(p: PrinterInfo, c: CurrencyFormat): void {
  console.log(`printer ${p.serverName}/${p.queueName}${p.displayName ? ` — ${p.displayName}` : ''}${p.location ? ` (${p.location})` : ''}`);
  console.log(`enabled        ${yesNo(p.enabled)}`);
  console.log(`charging       ${p.chargingEnabled ? 'yes' : 'no (passthrough: jobs are recorded, never charged)'}`);
  console.log(`failure mode   ${p.failureMode}`);
  console.log(`unknown pages  ${unknownPagesText(p)}`);
  console.log(`rate card      ${p.rateCard ?? 'none (its jobs are refused)'}`);
  if (p.filters === null) {
    console.log(`filters        UNREADABLE: every job is refused until they are set again (stored: ${p.filtersText.slice(0, 200)})`);
    return;
  }
  const lines = describeFilters(p.filters, c);
  console.log(`filters        ${lines.length === 0 ? 'none' : lines.join('\n               ')}`);
}

const printerArg = (cmd: Command): Command => cmd.argument('<server/queue>', 'the printer: secondary name and CUPS queue, e.g. print-1/library-laser');

export function printersCommand(): Command {
  const printers = new Command('printers').description('printers registered by print secondaries: rate card, failure mode, enabled, charging and filters');

  const list = new Command('list').description('list printers with their settings and filters').addOption(new Option('--json', 'print as JSON'));
  withDatabaseOptions(list).action(
    action(async (flags: DatabaseFlags & { json?: boolean }) => {
      await withServices(flags, async (s) => {
        const rows = await s.printers.list();
        if (flags.json) return console.log(JSON.stringify(rows, null, 2));
        if (rows.length === 0) return console.log('no printers yet: a print secondary registers each queue on its first job');
        const c = await s.settings.currency();
        printTable(
          ['PRINTER', 'ENABLED', 'CHARGING', 'FAILURE MODE', 'UNKNOWN PAGES', 'RATE CARD', 'FILTERS'],
          rows.map((p) => [
            `${p.serverName}/${p.queueName}`,
            yesNo(p.enabled),
            yesNo(p.chargingEnabled),
            p.failureMode,
            p.unknownPageCount,
            p.rateCard ?? '-',
            filterSummary(p, c),
          ]),
        );
      });
    }),
  );

  const show = printerArg(new Command('show').description('show one printer and its filters')).addOption(new Option('--json', 'print as JSON'));
  withDatabaseOptions(show).action(
    action(async (ref: string, flags: DatabaseFlags & { json?: boolean }) => {
      await withServices(flags, async (s) => {
        const p = await s.printers.find(ref);
        if (flags.json) return console.log(JSON.stringify(p, null, 2));
        printPrinter(p, await s.settings.currency());
      });
    }),
  );

  const set = printerArg(new Command('set').description("change a printer's rate card, failure mode, unknown page count rule, enabled or charging"))
    .option('--rate-card <name>', 'the rate card that prices its jobs')
    .addOption(new Option('--failure-mode <mode>', 'what its secondary does while the primary is unreachable').choices([...FAILURE_MODES]))
    .addOption(
      new Option(
        '--unknown-page-count <rule>',
        "a job whose pages nothing can count: hold it in CUPS for an administrator (default), or charge the printer's --max-pages filter (held when it has none)",
      ).choices([...UNKNOWN_PAGE_COUNTS]),
    )
    .option('--enabled <yes|no>', 'no: every job is refused')
    .option('--charging <yes|no>', 'no: a passthrough printer, whose jobs are recorded but never charged');
  withDatabaseOptions(set).action(
    action(
      async (
        ref: string,
        flags: DatabaseFlags & { rateCard?: string; failureMode?: FailureMode; unknownPageCount?: UnknownPageCount; enabled?: string; charging?: string },
      ) => {
        const changes: PrinterChanges = {};
        if (flags.failureMode !== undefined) changes.failureMode = flags.failureMode;
        if (flags.unknownPageCount !== undefined) changes.unknownPageCount = flags.unknownPageCount;
        if (flags.enabled !== undefined) changes.enabled = yesNoFlag(flags.enabled, '--enabled');
        if (flags.charging !== undefined) changes.chargingEnabled = yesNoFlag(flags.charging, '--charging');
        if (flags.rateCard === undefined && Object.keys(changes).length === 0)
          throw new ValidationError('nothing to change: give --rate-card, --failure-mode, --unknown-page-count, --enabled or --charging (see --help)');
        await withServices(flags, async (s) => {
          const p = await s.printers.find(ref);
          if (flags.rateCard !== undefined) changes.rateCardId = (await s.rateCards.getByName(flags.rateCard)).id;
          printPrinter(await s.printers.update(p.id, changes, cliActor()), await s.settings.currency());
        });
      },
    ),
  );

  const filters = printerArg(new Command('filters').description("change a printer's filters (without options: show them)"))
    .option('--max-pages <n>', 'most pages per job, counting every copy (none: no limit)')
    .option('--max-copies <n>', 'most copies per job (none: no limit)')
    .option('--max-cost <amount>', 'most a job may cost, in the site currency: 5.00 (none: no limit)')
    .option('--colour-only', 'refuse jobs without a colour page')
    .option('--greyscale-only', 'refuse jobs with any colour page')
    .option('--any-colour', 'lift --colour-only or --greyscale-only')
    .option('--duplex-only', 'refuse single-sided jobs of two or more pages')
    .option('--simplex-only', 'refuse double-sided jobs')
    .option('--any-sides', 'lift --duplex-only or --simplex-only')
    .option('--paper-sizes <list>', 'allowed paper sizes, comma-separated: A4,Letter (any: every size; a job of unknown size passes)')
    .option('--name-allow <globs>', "when set, only document names matching one of these: '*.pdf,*.docx' (none: lift)")
    .option('--name-deny <globs>', "refuse document names matching any of these: '*.exe,*secret*' (none: lift)")
    .option('--duplicate-window <seconds>', 'refuse the same document (name and pages) from the same user within this many seconds, 1..86400 (0 or none: off)')
    .option('--clear', 'remove every filter first (then apply the other options)')
    .addHelpText(
      'after',
      "\nGlobs are case-insensitive and match the whole name: * any characters, ? one, [abc] [a-z] [!abc] sets, \\x a literal x.\nA list may also be a JSON array, for a glob holding a comma: --name-deny '[\"a,b*\"]'.\n\nExample: quotient printers filters print-1/library-laser --max-pages 50 --greyscale-only --name-deny '*.exe'",
    );
  withDatabaseOptions(filters).action(
    action(async (ref: string, flags: DatabaseFlags & FilterFlags) => {
      const given = (Object.keys(flags) as (keyof FilterFlags | keyof DatabaseFlags)[]).filter((k) => !['dataDir', 'databaseUrl', 'config'].includes(k));
      await withServices(flags, async (s) => {
        const p = await s.printers.find(ref);
        const c = await s.settings.currency();
        if (given.length > 0) {
          const next = applyFilterFlags(flags.clear ? {} : (p.filters ?? {}), flags, c);
          const after = await s.printers.update(p.id, { filters: next }, cliActor());
          const lines = describeFilters(after.filters ?? {}, c);
          return console.log(`${p.serverName}/${p.queueName} filters: ${lines.length === 0 ? 'none' : lines.join('; ')}`);
        }
        console.log(`${p.serverName}/${p.queueName} filters: ${filterSummary(p, c)}`);
      });
    }),
  );

  return printers.addCommand(list).addCommand(show).addCommand(set).addCommand(filters);
}
