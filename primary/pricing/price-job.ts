/**
 * Prices one print job against a validated rate card: (card, job, cost multiplier) -> quote.
 * Pure and exact: every intermediate amount is a BigInt fraction, and the total is rounded once,
 * at the end, by THE rounding rule (common/money.ts roundFraction, halves away from zero).
 */
import { MAX_AMOUNT, roundFraction, type Money } from '../../common/money';
import { PRINT_JOB_LIMITS as JOB_LIMITS } from '../../common/print-job-schema';
import { integerIn, invalid, record } from './input-checks';
import { checkedPaperSize } from './paper-size';
import { BP_PER_UNIT, DEFAULT_PAPER_SIZE, RATE_CARD_LIMITS, finishingOption, type Colour, type FinishingPer, type RateCard, type Sides } from './rate-card';

export const PRINT_JOB_LIMITS = {
  maxPages: JOB_LIMITS.pages,
  maxCopies: JOB_LIMITS.copies,
  /** 1_000_000 bp = ×100. */
  maxMultiplierBp: 1_000_000,
} as const;

/** What the pricing needs to know about a job; extra fields (document name, user, ...) are ignored. */
export interface PrintJobDescription {
  /** Pages (impressions) in ONE copy, 0..1_000_000. */
  pages: number;
  /** How many of those pages are colour, 0..pages; the rest are grey. */
  colourPages: number;
  /** 1..10_000. */
  copies: number;
  duplex: boolean;
  /** Any spelling (see paper-size.ts); '' when unknown, which the default rows price. */
  paperSize: string;
  /** Finishing options asked for; each must be on the card. Case-insensitive; repeats count once. */
  finishings: readonly string[];
}

/** Where a page price came from, exactly: the effective price is pricePerPage × (10000 − duplexDiscountBp) / 10000. */
export interface PagePrice {
  /** Paper size of the rate card row used: the job's canonical size, or '*' for the default row. */
  paperSize: string;
  /** Sides of the row used: 'simplex' for a duplex job means the duplex discount was applied. */
  sides: Sides;
  /** The row's price per page. */
  pricePerPage: Money;
  /** Discount applied to that price: the card's duplexDiscountBp when a simplex row priced duplex pages, else 0. */
  duplexDiscountBp: number;
}

export interface FinishingCharge {
  option: string;
  per: FinishingPer;
  /** The card's price per job or per sheet. */
  price: Money;
  /** 1 for a per-job option; the job's total sheets for a per-sheet option. */
  quantity: number;
}

export interface PriceBreakdown {
  /** The job's canonical paper size ('' when unknown). */
  paperSize: string;
  sides: Sides;
  copies: number;
  sheetsPerCopy: number;
  /** Grey and colour impressions over all copies. */
  pagesGrey: number;
  pagesColour: number;
  greyPrice: PagePrice;
  colourPrice: PagePrice;
  finishing: readonly FinishingCharge[];
  perJobFee: Money;
  /** The cost multiplier applied to everything, in basis points (10000 = ×1). */
  multiplierBp: number;
  /**
   * The exact price in minor units before rounding, as a decimal string (e.g. "352.5"). Exact,
   * because every price is a whole number of 1/10^8 minor units (10^4 for the duplex discount
   * times 10^4 for the multiplier). total === the rounding rule applied to this.
   */
  exactTotal: string;
}

export interface PriceQuote {
  /** What the job costs, in minor units: rounded once, halves away from zero. */
  total: Money;
  /** Sheets over all copies: copies × (duplex ? ceil(pages / 2) : pages). */
  sheets: number;
  /** Impressions over all copies: copies × pages. */
  pages: number;
  breakdown: PriceBreakdown;
}

const UNIT = BigInt(BP_PER_UNIT);
/** Denominator of the exact total: one 10^4 for the duplex discount, one for the multiplier. */
const DENOMINATOR = UNIT * UNIT;
const DENOMINATOR_DIGITS = 8;

/**
 * Prices a job. Throws a ValidationError naming the field for a malformed job, a finishing the
 * card does not offer (charging nothing for it would make it free by accident), a multiplier out
 * of 0..1_000_000 bp, or a total beyond MAX_AMOUNT.
 */
export function priceJob(card: RateCard, job: PrintJobDescription, multiplierBp: number): PriceQuote {
  const j = validateJob(job);
  integerIn(multiplierBp, 'multiplierBp', 0, PRINT_JOB_LIMITS.maxMultiplierBp);

  const sides: Sides = j.duplex ? 'duplex' : 'simplex';
  const greyPrice = pagePrice(card, j.paperSize, 'grey', j.duplex);
  const colourPrice = pagePrice(card, j.paperSize, 'colour', j.duplex);
  const sheetsPerCopy = j.duplex ? Math.ceil(j.pages / 2) : j.pages;
  const sheets = j.copies * sheetsPerCopy;

  const finishing: FinishingCharge[] = [];
  let perSheetFinishing = 0n;
  let perJobFinishing = 0n;
  j.finishings.forEach((index, option) => {
    const row = card.finishings.find((f) => f.option === option);
    if (row === undefined) {
      throw invalid(`finishings[${index}]`, `finishing "${option}" is not offered by this printer's rate card`, option);
    }
    if (row.per === 'sheet') perSheetFinishing += BigInt(row.price);
    else perJobFinishing += BigInt(row.price);
    finishing.push({ option, per: row.per, price: row.price, quantity: row.per === 'sheet' ? sheets : 1 });
  });

  // All in 1/10^4 minor units until the multiplier, then 1/10^8: exact, no rounding yet.
  const greyPerPage = BigInt(greyPrice.pricePerPage) * BigInt(BP_PER_UNIT - greyPrice.duplexDiscountBp);
  const colourPerPage = BigInt(colourPrice.pricePerPage) * BigInt(BP_PER_UNIT - colourPrice.duplexDiscountBp);
  const greyPagesPerCopy = BigInt(j.pages - j.colourPages);
  const perCopy = greyPagesPerCopy * greyPerPage + BigInt(j.colourPages) * colourPerPage + perSheetFinishing * BigInt(sheetsPerCopy) * UNIT;
  const beforeMultiplier = BigInt(j.copies) * perCopy + (perJobFinishing + BigInt(card.perJobFee)) * UNIT;
  const numerator = beforeMultiplier * BigInt(multiplierBp);

  // The rounded total exceeds MAX_AMOUNT exactly when numerator/denominator >= MAX_AMOUNT + 1/2.
  if (2n * numerator >= (2n * BigInt(MAX_AMOUNT) + 1n) * DENOMINATOR) {
    throw invalid('total', `the price of this job is out of range (more than ${MAX_AMOUNT} minor units)`);
  }

  return {
    total: roundFraction(numerator, DENOMINATOR),
    sheets,
    pages: j.copies * j.pages,
    breakdown: {
      paperSize: j.paperSize,
      sides,
      copies: j.copies,
      sheetsPerCopy,
      pagesGrey: j.copies * (j.pages - j.colourPages),
      pagesColour: j.copies * j.colourPages,
      greyPrice,
      colourPrice,
      finishing,
      perJobFee: card.perJobFee,
      multiplierBp,
      exactTotal: decimalString(numerator, DENOMINATOR_DIGITS),
    },
  };
}

/**
 * The lookup order for one colour: the job's size, then the default row '*'; for each, a duplex
 * job takes the duplex row if there is one, else the simplex row less the duplex discount.
 */
function pagePrice(card: RateCard, paperSize: string, colour: Colour, duplex: boolean): PagePrice {
  const sizes = paperSize === '' || paperSize === DEFAULT_PAPER_SIZE ? [DEFAULT_PAPER_SIZE] : [paperSize, DEFAULT_PAPER_SIZE];
  for (const size of sizes) {
    if (duplex) {
      const row = findRow(card, size, colour, 'duplex');
      if (row !== undefined) return { paperSize: size, sides: 'duplex', pricePerPage: row, duplexDiscountBp: 0 };
    }
    const row = findRow(card, size, colour, 'simplex');
    if (row !== undefined) {
      return { paperSize: size, sides: 'simplex', pricePerPage: row, duplexDiscountBp: duplex ? card.duplexDiscountBp : 0 };
    }
  }
  // validateRateCard() guarantees both default simplex rows; only a hand-made object gets here.
  throw invalid('prices', `rate card has no default ${colour} row; build cards with validateRateCard()`);
}

function findRow(card: RateCard, paperSize: string, colour: Colour, sides: Sides): Money | undefined {
  for (const row of card.prices) {
    if (row.paperSize === paperSize && row.colour === colour && row.sides === sides) return row.pricePerPage;
  }
  return undefined;
}

interface ValidJob {
  pages: number;
  colourPages: number;
  copies: number;
  duplex: boolean;
  paperSize: string;
  /** Canonical option -> its index in the job's list (for error messages). */
  finishings: Map<string, number>;
}

function validateJob(input: unknown): ValidJob {
  const job = record(input, 'job');
  const pages = integerIn(job.pages, 'pages', 0, PRINT_JOB_LIMITS.maxPages);
  if (typeof job.colourPages !== 'number' || !Number.isSafeInteger(job.colourPages) || job.colourPages < 0 || job.colourPages > pages) {
    throw invalid('colourPages', `colourPages must be a whole number from 0 to the job's pages (${pages})`, job.colourPages);
  }
  const copies = integerIn(job.copies, 'copies', 1, PRINT_JOB_LIMITS.maxCopies);
  if (typeof job.duplex !== 'boolean') throw invalid('duplex', 'duplex must be true or false', job.duplex);
  const paperSize = checkedPaperSize(job.paperSize, 'paperSize', { allowEmpty: true });

  if (!Array.isArray(job.finishings)) throw invalid('finishings', 'finishings must be a list of option names', job.finishings);
  if (job.finishings.length > RATE_CARD_LIMITS.finishingRows) {
    throw invalid('finishings', `finishings has more than ${RATE_CARD_LIMITS.finishingRows} entries`);
  }
  // A finishing is applied or not: the same option named twice (say by two job options) counts once.
  const finishings = new Map<string, number>();
  job.finishings.forEach((raw: unknown, index) => {
    const option = finishingOption(raw, `finishings[${index}]`);
    if (!finishings.has(option)) finishings.set(option, index);
  });
  return { pages, colourPages: job.colourPages, copies, duplex: job.duplex, paperSize, finishings };
}

/** numerator / 10^digits as an exact decimal string, trailing zeros dropped: (3525n, 1) -> "352.5". */
function decimalString(numerator: bigint, digits: number): string {
  const negative = numerator < 0n;
  const text = (negative ? -numerator : numerator).toString().padStart(digits + 1, '0');
  const whole = text.slice(0, text.length - digits);
  const fraction = text.slice(text.length - digits).replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction === '' ? '' : `.${fraction}`}`;
}
