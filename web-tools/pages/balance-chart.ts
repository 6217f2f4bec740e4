/**
 * Geometry of the balance-history chart drawn as SVG on the server: a step line through the
 * balance after each ledger row in the window, scaled into a fixed view box. Pure and unit-tested;
 * the template only prints the numbers it returns.
 */
export interface BalancePoint {
  at: number;
  balance: number;
}

export interface ChartGeometry {
  width: number;
  height: number;
  /** "x,y x,y ..." for an SVG polyline. */
  points: string;
  /** Y of the zero line. */
  zeroY: number;
  min: number;
  max: number;
}

export const CHART_WIDTH = 600;
export const CHART_HEIGHT = 160;
const PAD = 8;

/**
 * `start` is the balance at `from` (before the first point); the line steps at each point and
 * runs flat to `to`.
 */
export function balanceChart(start: number, points: BalancePoint[], from: number, to: number): ChartGeometry {
  const series: BalancePoint[] = [{ at: from, balance: start }, ...points.filter((p) => p.at >= from && p.at <= to)];
  const last = series[series.length - 1] ?? { at: from, balance: start };
  series.push({ at: to, balance: last.balance });
  const values = series.map((p) => p.balance);
  const min = Math.min(0, ...values);
  let max = Math.max(0, ...values);
  if (min === max) max = min + 1;
  const span = Math.max(to - from, 1);
  const x = (at: number): number => round(PAD + ((at - from) / span) * (CHART_WIDTH - 2 * PAD));
  const y = (v: number): number => round(PAD + ((max - v) / (max - min)) * (CHART_HEIGHT - 2 * PAD));
  const coords: string[] = [];
  let previous: BalancePoint | undefined;
  for (const p of series) {
    if (previous) coords.push(`${x(p.at)},${y(previous.balance)}`);
    coords.push(`${x(p.at)},${y(p.balance)}`);
    previous = p;
  }
  // The scale always includes zero, so the zero line is always drawn.
  return { width: CHART_WIDTH, height: CHART_HEIGHT, points: coords.join(' '), zeroY: y(0), min: Math.min(...values), max: Math.max(...values) };
}

const round = (n: number): number => Math.round(n * 10) / 10;
