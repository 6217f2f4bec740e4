/**
 * Paper-size names from dimensions in points (1/72 inch), as PDF MediaBoxes, PWG/URF headers and
 * DSC media comments give them. Orientation does not matter (a landscape A4 page is A4). Sizes
 * within a few points of a standard size take its name; anything else is `<w>x<h>mm`.
 */

/** Width x height in points, portrait. */
const SIZES: readonly (readonly [string, number, number])[] = [
  ['A3', 842, 1191],
  ['A4', 595, 842],
  ['A5', 420, 595],
  ['A6', 298, 420],
  ['Letter', 612, 792],
  ['Legal', 612, 1008],
  ['Tabloid', 792, 1224],
  ['Executive', 522, 756],
];

/** Tolerance in points: PDF producers round A4 to 595x842 or 595.28x841.89; rasters round to pixels. */
const TOLERANCE = 4;

/** 'A4' for 595x842 (either way round); `216x279mm`-style for sizes without a name; null when nonsense. */
export function paperSizeFromPoints(width: number, height: number): string | null {
  if (!Number.isFinite(width) || !Number.isFinite(height) || width <= 0 || height <= 0) return null;
  const w = Math.min(width, height);
  const h = Math.max(width, height);
  for (const [name, sw, sh] of SIZES) {
    if (Math.abs(w - sw) <= TOLERANCE && Math.abs(h - sh) <= TOLERANCE) return name;
  }
  const mm = (pt: number): number => Math.round((pt * 25.4) / 72);
  return `${mm(width)}x${mm(height)}mm`;
}
