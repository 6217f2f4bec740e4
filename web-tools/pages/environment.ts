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
  /** Trees, unrounded. */
  trees: number;
  /** Grams of CO2e (whole: sheets x a whole number of grams). */
  co2Grams: number;
}

export function impactOf(sheets: number): Impact {
  return { sheets, trees: sheets / SHEETS_PER_TREE, co2Grams: sheets * GRAMS_CO2_PER_SHEET };
}

/** An estimate as the page shows it: a catalogue key naming the unit and the number as text. */
export interface Shown {
  key: string;
  value: string;
}

const grouped = (digits: string): string => digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
/** `value` rounded to `places` decimals, without trailing zeros: (2.50, 2) -> "2.5", (3, 1) -> "3". */
const trimmed = (value: number, places: number): string => {
  const [whole = '0', fraction = ''] = value.toFixed(places).split('.');
  const f = fraction.replace(/0+$/, '');
  return `${grouped(whole)}${f ? `.${f}` : ''}`;
};

/**
 * CO2 in a readable unit: whole grams below 1 kg (a few pages are "15 g", not "0 kg"), kilograms
 * to 0.1 below 100 kg, whole kilograms from there (these are estimates; more digits would claim
 * a precision they do not have).
 */
export function showCo2(grams: number): Shown {
  if (grams < 1000) return { key: 'impact.grams', value: String(Math.round(grams)) };
  const kg = grams / 1000;
  return { key: 'impact.kilograms', value: kg < 100 ? trimmed(kg, 1) : grouped(String(Math.round(kg))) };
}

/** Trees: "0" for none, "less than 0.001" for a few sheets, three decimals below 10, one from there. */
export function showTrees(trees: number): Shown {
  if (trees === 0) return { key: 'impact.trees', value: '0' };
  if (trees < 0.0005) return { key: 'impact.treesUnder', value: '0.001' };
  return { key: 'impact.trees', value: trimmed(trees, trees < 10 ? 3 : 1) };
}
