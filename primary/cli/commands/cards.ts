/**
 * `quotient cards generate|import|list|show|disable|enable`: top-up card batches (primary/cards/). The
 * numbers of a generated batch are written once, to a CSV file only its owner may read; a file
 * that exists is not overwritten without --force. An import checks every row first and writes
 * all of its numbers or none.
 */
import fs from 'node:fs';
import { Command } from 'commander';
import { ValidationError } from '../../../common/errors';
import { formatAmount } from '../../../common/money';
import { MAX_BATCH_SIZE, groupCardNumber, type NewBatch } from '../../cards/card-service';
import type { Services } from '../../services';
import { checkEncoding, readAll, readRecords } from '../../users/csv-import';
import { action, amountArg, cliActor, printTable, withDatabaseOptions, withServices, type DatabaseFlags } from '../context';

interface BatchFlags extends DatabaseFlags {
  batch: string;
  value: string;
  expires: string;
  notes?: string;
}

function withBatchOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--batch <name>', 'the batch name (unique)')
    .requiredOption('--value <amount>', 'what each card credits, e.g. 10.00')
    .requiredOption('--expires <date>', 'the last day the cards may be redeemed, YYYY-MM-DD (in the primary time zone)')
    .option('--notes <text>', 'a note kept with the batch');
}

async function newBatch(s: Services, flags: BatchFlags): Promise<NewBatch> {
  const { amount } = await amountArg(s, flags.value, 'value');
  return { name: flags.batch, value: amount, expiresOn: flags.expires, notes: flags.notes ?? '', actor: cliActor() };
}

function csvCell(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function generateCommand(): Command {
  const cmd = withBatchOptions(new Command('generate').description('make a batch of new card numbers and write them to a CSV file'))
    .requiredOption('--count <n>', `how many cards (1 to ${MAX_BATCH_SIZE})`)
    .requiredOption('--out <file>', 'the CSV file to write the numbers to (created readable by you only)')
    .option('--force', 'overwrite --out if it exists');
  withDatabaseOptions(cmd).action(
    action(async (flags: BatchFlags & { count: string; out: string; force?: boolean }) => {
      if (!/^\d{1,9}$/.test(flags.count.trim())) throw new ValidationError(`count must be a whole number from 1 to ${MAX_BATCH_SIZE}: ${flags.count}`);
      const count = Number(flags.count.trim());
      await withServices(flags, async (s) => {
        const batch = await newBatch(s, flags);
        // The file first, so a file that cannot be written stops before any card exists.
        let fd: number;
        try {
          fd = fs.openSync(flags.out, flags.force ? 'w' : 'wx', 0o600);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'EEXIST') throw new ValidationError(`${flags.out} exists; choose another file or add --force`);
          throw new ValidationError(`cannot write ${flags.out}: ${code ?? String(err)}`);
        }
        try {
          fs.fchmodSync(fd, 0o600); // an overwritten file keeps its old mode otherwise
          const { batch: made, numbers } = await s.cards.generate(batch, count);
          const currency = await s.settings.currency();
          const value = formatAmount(made.value, { ...currency, symbol: '' });
          const rows = numbers.map((n) => [groupCardNumber(n), csvCell(made.name), value, made.expiresOn].join(','));
          fs.writeSync(fd, ['number,batch,value,expires', ...rows, ''].join('\n'));
          fs.closeSync(fd);
          console.log(
            `generated ${numbers.length} card(s) worth ${formatAmount(made.value, currency)} each in batch ${made.name}, valid through ${made.expiresOn}: ${flags.out}`,
          );
        } catch (err) {
          fs.closeSync(fd);
          fs.rmSync(flags.out, { force: true });
          throw err;
        }
      });
    }),
  );
  return cmd;
}

/** The `number` column of a CSV file, each cell with its line number. */
async function numbersIn(file: string): Promise<{ line: number; number: string }[] | { line: number; reason: string }[]> {
  const { header, records } = readRecords(checkEncoding(await readAll(file), file));
  if (!header) throw new ValidationError(`${file} is empty: it needs a header line with a "number" column`);
  const column = header.fields.findIndex((f) => f.trim().toLowerCase() === 'number');
  if (column < 0) throw new ValidationError(`${file} has no "number" column in its header (line ${header.line})`);
  const broken = records.flatMap((r) => ('error' in r ? [{ line: r.line, reason: r.error }] : []));
  if (broken.length > 0) return broken;
  return records.flatMap((r) => ('error' in r ? [] : [{ line: r.line, number: r.fields[column] ?? '' }]));
}

function importCommand(): Command {
  const cmd = withBatchOptions(new Command('import').description('make a batch from the numbers in a CSV file (a "number" column)'))
    .argument('<file>')
    .option('--dry-run', 'check the file and say what would be imported, writing nothing');
  withDatabaseOptions(cmd).action(
    action(async (file: string, flags: BatchFlags & { dryRun?: boolean }) => {
      await withServices(flags, async (s) => {
        const batch = await newBatch(s, flags);
        const read = await numbersIn(file);
        const outcome =
          read.length > 0 && 'reason' in read[0]!
            ? { numbers: [], problems: read as { line: number; reason: string }[], written: false }
            : await s.cards.importNumbers(batch, read as { line: number; number: string }[], { dryRun: flags.dryRun === true });
        if (outcome.problems.length > 0) {
          for (const p of outcome.problems) console.error(p.line > 0 ? `line ${p.line}: ${p.reason}` : p.reason);
          throw new ValidationError(`nothing imported: ${outcome.problems.length} problem(s) in ${file}`);
        }
        const currency = await s.settings.currency();
        const what = `${outcome.numbers.length} card(s) worth ${formatAmount(batch.value, currency)} each into batch ${batch.name.trim()}, valid through ${batch.expiresOn}`;
        console.log(outcome.written ? `imported ${what}` : `dry run: would import ${what}; nothing written`);
      });
    }),
  );
  return cmd;
}

function listCommand(): Command {
  const cmd = new Command('list').description('card batches with their used, unused and expired counts');
  withDatabaseOptions(cmd).action(
    action(async (flags: DatabaseFlags) => {
      await withServices(flags, async (s) => {
        const batches = await s.cards.list();
        if (batches.length === 0) return console.log('no card batches');
        const currency = await s.settings.currency();
        printTable(
          ['BATCH', 'VALUE', 'EXPIRES', 'CARDS', 'USED', 'UNUSED', 'EXPIRED', 'STATE'],
          batches.map((b) => [
            b.name,
            formatAmount(b.value, currency),
            b.expiresOn,
            b.counts.total,
            b.counts.redeemed,
            b.counts.unused,
            b.counts.expired,
            b.disabled ? 'disabled' : b.expired ? 'expired' : 'active',
          ]),
        );
      });
    }),
  );
  return cmd;
}

function showCommand(): Command {
  const cmd = new Command('show').description('one batch: each card, and who redeemed it when').argument('<batch>');
  withDatabaseOptions(cmd).action(
    action(async (name: string, flags: DatabaseFlags) => {
      await withServices(flags, async (s) => {
        const { batch, cards } = await s.cards.show(name);
        const currency = await s.settings.currency();
        console.log(`batch      ${batch.name}`);
        console.log(`value      ${formatAmount(batch.value, currency)}`);
        console.log(`expires    ${batch.expiresOn}${batch.expired ? ' (expired)' : ''}`);
        console.log(`state      ${batch.disabled ? 'disabled' : 'enabled'}`);
        console.log(`created    ${new Date(batch.createdAt).toISOString()} by ${batch.createdBy}`);
        if (batch.notes) console.log(`notes      ${batch.notes}`);
        console.log(`cards      ${batch.counts.total}: ${batch.counts.redeemed} used, ${batch.counts.unused} unused, ${batch.counts.expired} expired`);
        console.log('');
        printTable(
          ['NUMBER', 'STATE', 'REDEEMED BY', 'REDEEMED AT', 'LEDGER ROW'],
          cards.map((c) => [
            groupCardNumber(c.number),
            c.state,
            c.redeemedBy ?? '',
            c.redeemedAt === null ? '' : new Date(c.redeemedAt).toISOString(),
            c.ledgerId ?? '',
          ]),
        );
      });
    }),
  );
  return cmd;
}

function switchCommand(verb: 'disable' | 'enable', description: string): Command {
  const cmd = new Command(verb).description(description).argument('<batch>');
  withDatabaseOptions(cmd).action(
    action(async (name: string, flags: DatabaseFlags) => {
      await withServices(flags, async (s) => {
        const { changed } = await s.cards[verb](name, cliActor());
        console.log(changed ? `${verb}d batch ${name.trim()}` : `batch ${name.trim()} was already ${verb}d; nothing changed`);
      });
    }),
  );
  return cmd;
}

export function cardsCommand(): Command {
  return new Command('cards')
    .description('top-up card batches: generate, import, list, show, disable, enable')
    .addCommand(generateCommand())
    .addCommand(importCommand())
    .addCommand(listCommand())
    .addCommand(showCommand())
    .addCommand(switchCommand('disable', "stop a batch's unused cards from being redeemed"))
    .addCommand(switchCommand('enable', "let a disabled batch's unused cards be redeemed again (until the batch expires)"));
}
