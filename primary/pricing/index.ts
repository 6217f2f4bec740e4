/**
 * Pricing: rate cards and the pure function that prices a print job against one.
 * See docs/pricing.md for the rules as administrators read them.
 */
export {
  BP_PER_UNIT,
  DEFAULT_PAPER_SIZE,
  RATE_CARD_LIMITS,
  validateRateCard,
  type Colour,
  type FinishingPer,
  type FinishingRow,
  type PriceRow,
  type RateCard,
  type RateCardInput,
  type Sides,
} from './rate-card';
export { MAX_PAPER_SIZE_LENGTH, normalisePaperSize } from './paper-size';
export { PRINT_JOB_LIMITS, priceJob, type FinishingCharge, type PagePrice, type PriceBreakdown, type PriceQuote, type PrintJobDescription } from './price-job';
