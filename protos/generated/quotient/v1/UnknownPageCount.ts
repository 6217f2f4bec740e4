// Original file: protos/quotient/v1/cluster.proto

/**
 * What the secondary does with a job whose pages nothing could count (neither the page analysis
 * nor Ghostscript): docs/page-analysis.md, "When nothing can count the pages".
 */
export const UnknownPageCount = {
  /**
   * A primary that does not say: HOLD.
   */
  UNKNOWN_PAGE_COUNT_UNSPECIFIED: 'UNKNOWN_PAGE_COUNT_UNSPECIFIED',
  /**
   * Not printed and not charged: the backend holds the job in CUPS (pending-held) for an
   * administrator, who cancels it or releases it (docs/print-secondary.md).
   */
  UNKNOWN_PAGE_COUNT_HOLD: 'UNKNOWN_PAGE_COUNT_HOLD',
  /**
   * Charged as `unknown_page_count_pages` pages (the printer's max-pages filter); HOLD when that is 0.
   */
  UNKNOWN_PAGE_COUNT_CHARGE_MAXIMUM: 'UNKNOWN_PAGE_COUNT_CHARGE_MAXIMUM',
} as const;

/**
 * What the secondary does with a job whose pages nothing could count (neither the page analysis
 * nor Ghostscript): docs/page-analysis.md, "When nothing can count the pages".
 */
export type UnknownPageCount =
  /**
   * A primary that does not say: HOLD.
   */
  | 'UNKNOWN_PAGE_COUNT_UNSPECIFIED'
  | 0
  /**
   * Not printed and not charged: the backend holds the job in CUPS (pending-held) for an
   * administrator, who cancels it or releases it (docs/print-secondary.md).
   */
  | 'UNKNOWN_PAGE_COUNT_HOLD'
  | 1
  /**
   * Charged as `unknown_page_count_pages` pages (the printer's max-pages filter); HOLD when that is 0.
   */
  | 'UNKNOWN_PAGE_COUNT_CHARGE_MAXIMUM'
  | 2

/**
 * What the secondary does with a job whose pages nothing could count (neither the page analysis
 * nor Ghostscript): docs/page-analysis.md, "When nothing can count the pages".
 */
export type UnknownPageCount__Output = typeof UnknownPageCount[keyof typeof UnknownPageCount]
