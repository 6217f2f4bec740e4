/**
 * Environmental impact of printing, shown on the user summary. The constants are the usual
 * rules of thumb used by print-management products and paper calculators (docs/web-tools.md):
 *  - one tree makes about 8,333 sheets of A4 copy paper (80 g/m²);
 *  - one sheet of office paper accounts for about 5 g CO2e over its life (pulp, manufacture,
 *    transport, disposal).
 * Estimates, not measurements: they are rounded for display.
 */
export const SHEETS_PER_TREE = 8333;
export const GRAMS_CO2_PER_SHEET = 5;

/** Sheets of paper a job used: duplex puts two pages on a sheet. */
export function sheetsOf(pages: number, copies: number, duplex: boolean): number {
  return (duplex ? Math.ceil(pages / 2) : pages) * copies;
}

export interface Impact {
  sheets: number;
  /** Trees, to 3 decimal places. */
  trees: number;
  /** Kilograms of CO2e, to 1 decimal place. */
  co2Kg: number;
}

export function impactOf(sheets: number): Impact {
  return {
    sheets,
    trees: Math.round((sheets / SHEETS_PER_TREE) * 1000) / 1000,
    co2Kg: Math.round((sheets * GRAMS_CO2_PER_SHEET) / 100) / 10,
  };
}
