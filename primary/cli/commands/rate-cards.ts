/**
 * `quotient rate-cards list|show|save|export`: rate cards from the command line. A card
 * file is the JSON that docs/pricing.md documents, money in integer minor units, exactly what
 * validateRateCard reads; `export` writes that same form, so export → save → export is exact.
 * `save` goes through RateCardStore.save: every field checked before anything is written, one
 * transaction, and an audit row (rate_card.create or rate_card.update) with the CLI actor.
 */
import fs from 'node:fs/promises';
import { Command, Option } from 'commander';
import { ValidationError, isQuotientError } from '../../../common/errors';
import { formatAmount, type CurrencyFormat } from '../../../common/money';
import { DEFAULT_PAPER_SIZE, type RateCard } from '../../pricing/rate-card';
import { action, cliActor, printTable, withDatabaseOptions, withServices, type DatabaseFlags } from '../context';

const MAX_FILE_BYTES = 1024 * 1024;

/** The card as a file holds it (and as validateRateCard reads it), in a fixed field order. */
export function rateCardFile(card: RateCard): string {
  const file = {
    prices: card.prices.map((p) => ({ paperSize: p.paperSize, colour: p.colour, sides: p.sides, pricePerPage: p.pricePerPage })),
    perJobFee: card.perJobFee,
    duplexDiscountBp: card.duplexDiscountBp,
    finishings: card.finishings.map((f) => ({ option: f.option, per: f.per, price: f.price })),
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}

/** Basis points as a percentage without trailing zeros: 2500 -> "25%", 1250 -> "12.5%". */
function percent(bp: number): string {
  const fraction = String(bp % 100)
    .padStart(2, '0')
    .replace(/0+$/, '');
  return `${Math.trunc(bp / 100)}${fraction ? `.${fraction}` : ''}%`;
}

async function readCardFile(file: string): Promise<unknown> {
  let text: string;
  try {
    const stat = await fs.stat(file);
    if (stat.size > MAX_FILE_BYTES)
      throw new ValidationError(`${file} is larger than ${MAX_FILE_BYTES} bytes; a rate card file is much smaller`, { field: 'file' });
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if (isQuotientError(err)) throw err;
    throw new ValidationError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { field: 'file' });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ValidationError(`${file} is not valid JSON: ${(err as Error).message}`, { field: 'file' });
  }
}

function printCard(name: string, card: RateCard, c: CurrencyFormat): void {
  console.log(`rate card ${name}`);
  console.log(`per-job fee      ${formatAmount(card.perJobFee, c)}`);
  console.log(`duplex discount  ${percent(card.duplexDiscountBp)} off a simplex price used for a duplex page`);
  console.log('');
  printTable(
    ['PAPER SIZE', 'COLOUR', 'SIDES', 'PRICE PER PAGE'],
    card.prices.map((p) => [p.paperSize === DEFAULT_PAPER_SIZE ? '* (any other)' : p.paperSize, p.colour, p.sides, formatAmount(p.pricePerPage, c)]),
  );
  console.log('');
  if (card.finishings.length === 0) return console.log('no finishing options');
  printTable(
    ['FINISHING', 'CHARGED', 'PRICE'],
    card.finishings.map((f) => [f.option, f.per === 'job' ? 'per job' : 'per sheet', formatAmount(f.price, c)]),
  );
}

const FORMAT_HELP = `
A card file is JSON, money in whole minor units (cents, or points): 10 is $0.10 on a site with
2 decimals. Decimals, negative numbers and text are refused, naming the field.
  {
    "prices": [
      { "paperSize": "*",  "colour": "grey",   "sides": "simplex", "pricePerPage": 10 },
      { "paperSize": "*",  "colour": "colour", "sides": "simplex", "pricePerPage": 50 },
      { "paperSize": "A3", "colour": "grey",   "sides": "duplex",  "pricePerPage": 15 }
    ],
    "perJobFee": 0,
    "duplexDiscountBp": 2000,
    "finishings": [ { "option": "staple", "per": "job", "price": 5 } ]
  }
The two default rows ("*", simplex, grey and colour) are required. See docs/pricing.md and
examples/rate-cards/.`;

export function rateCardsCommand(): Command {
  const cards = new Command('rate-cards').description('rate cards: list, show, save from a JSON file, export to one');

  const list = new Command('list').description('list rate cards with their fee, discount and row counts').addOption(new Option('--json', 'print as JSON'));
  withDatabaseOptions(list).action(
    action(async (flags: DatabaseFlags & { json?: boolean }) => {
      await withServices(flags, async (s) => {
        const named = await Promise.all((await s.rateCards.list()).map((c) => s.rateCards.get(c.id)));
        if (flags.json) {
          return console.log(
            JSON.stringify(
              named.map((n) => ({
                id: n.id,
                name: n.name,
                priceRows: n.card.prices.length,
                finishings: n.card.finishings.length,
                perJobFee: n.card.perJobFee,
                duplexDiscountBp: n.card.duplexDiscountBp,
              })),
              null,
              2,
            ),
          );
        }
        if (named.length === 0) return console.log('no rate cards');
        const c = await s.settings.currency();
        printTable(
          ['NAME', 'PRICE ROWS', 'FINISHINGS', 'PER-JOB FEE', 'DUPLEX DISCOUNT'],
          named.map((n) => [n.name, n.card.prices.length, n.card.finishings.length, formatAmount(n.card.perJobFee, c), percent(n.card.duplexDiscountBp)]),
        );
      });
    }),
  );

  const show = new Command('show')
    .description('show a rate card: fee, discount, price rows and finishing options')
    .argument('<name>')
    .addOption(new Option('--json', 'print the card file (as export does)'));
  withDatabaseOptions(show).action(
    action(async (name: string, flags: DatabaseFlags & { json?: boolean }) => {
      await withServices(flags, async (s) => {
        const named = await s.rateCards.getByName(name);
        if (flags.json) return void process.stdout.write(rateCardFile(named.card));
        printCard(named.name, named.card, await s.settings.currency());
      });
    }),
  );

  const save = new Command('save')
    .description('create the rate card <name>, or replace it as a whole, from a JSON card file')
    .argument('<name>', 'the card to create or replace (1 to 128 characters)')
    .argument('<file>', 'the card file (see below)')
    .addHelpText('after', `${FORMAT_HELP}\n\nExample: quotient rate-cards save library examples/rate-cards/university.json`);
  withDatabaseOptions(save).action(
    action(async (name: string, file: string, flags: DatabaseFlags) => {
      const input = await readCardFile(file);
      await withServices(flags, async (s) => {
        const existed = (await s.rateCards.list()).some((c) => c.name === name.trim());
        let saved;
        try {
          saved = await s.rateCards.save(name, input, cliActor());
        } catch (err) {
          if (isQuotientError(err) && err.code === 'VALIDATION') throw new ValidationError(`${file}: ${err.message}; nothing was saved`, err.details);
          throw err;
        }
        const { prices, finishings } = saved.card;
        console.log(`${existed ? 'replaced' : 'created'} rate card ${saved.name} (${prices.length} price row(s), ${finishings.length} finishing option(s))`);
      });
    }),
  );

  const exportCmd = new Command('export')
    .description('print a rate card as a card file, ready to edit and save again')
    .argument('<name>')
    .option('--output <file>', 'write to this file instead of standard output')
    .addHelpText('after', '\nExample: quotient rate-cards export library --output library.json');
  withDatabaseOptions(exportCmd).action(
    action(async (name: string, flags: DatabaseFlags & { output?: string }) => {
      await withServices(flags, async (s) => {
        const text = rateCardFile((await s.rateCards.getByName(name)).card);
        if (flags.output === undefined) return void process.stdout.write(text);
        await fs.writeFile(flags.output, text);
        console.error(`wrote rate card ${name.trim()} to ${flags.output}`);
      });
    }),
  );

  return cards.addCommand(list).addCommand(show).addCommand(save).addCommand(exportCmd);
}
