/**
 * Options of the compact balance page (desktop widget, kiosk), from its query string. Position
 * and colours are checked against fixed lists and become CSS class names (the CSP forbids inline
 * styles); anything else falls back to the default. The title is free text, escaped when shown.
 */
export const WIDGET_POSITIONS = ['top-left', 'top-right', 'bottom-left', 'bottom-right', 'center'] as const;
export const WIDGET_COLOURS = ['white', 'black', 'navy', 'teal', 'green', 'maroon', 'grey', 'yellow'] as const;

export interface WidgetOptions {
  title: string;
  position: (typeof WIDGET_POSITIONS)[number];
  bg: (typeof WIDGET_COLOURS)[number];
  fg: (typeof WIDGET_COLOURS)[number];
}

function oneOf<T extends string>(list: readonly T[], value: unknown, fallback: T): T {
  return typeof value === 'string' && (list as readonly string[]).includes(value) ? (value as T) : fallback;
}

export function parseWidgetOptions(query: Record<string, unknown>): WidgetOptions {
  const title =
    typeof query.title === 'string'
      ? query.title
          .replace(/\p{Cc}/gu, '')
          .trim()
          .slice(0, 40)
      : '';
  const bg = oneOf(WIDGET_COLOURS, query.bg, 'white');
  let fg = oneOf(WIDGET_COLOURS, query.fg, 'black');
  if (fg === bg) fg = bg === 'black' ? 'white' : 'black'; // never invisible text
  return { title, position: oneOf(WIDGET_POSITIONS, query.position, 'top-right'), bg, fg };
}
