/**
 * Plain text: 60 lines a page (CUPS's texttopdf sets 6 lines per inch: about 60 lines on A4 or
 * Letter after its margins), and a form feed starts a new page. Long lines are not wrapped (the
 * width depends on the filter's options), so this can undercount text with very long lines.
 */
import { Budget, SeqReader, Source } from './source';
import type { Counted } from './types';

export const TEXT_LINES_PER_PAGE = 60;

export function analyseText(src: Source, limit: number, budget: Budget, warnings: string[], progress: { pages: number }): Counted | null {
  const rd = new SeqReader(src, limit);
  let pages = 0;
  let lines = 0;
  let lineHasText = false;
  const closePage = (): void => {
    if (lineHasText) lines++;
    pages += Math.max(1, Math.ceil(lines / TEXT_LINES_PER_PAGE));
    lines = 0;
    lineHasText = false;
    progress.pages = pages;
  };
  let any = false;
  for (;;) {
    budget.tick();
    const c = rd.next();
    if (c < 0) break;
    any = true;
    if (c === 0x0a || (c === 0x0d && rd.peek() !== 0x0a)) {
      // LF, CRLF (the CR is skipped below) and a lone CR (old Mac files) end a line.
      lines++;
      lineHasText = false;
    } else if (c === 0x0c) closePage();
    else if (c !== 0x0d) lineHasText = true;
  }
  if (!any) return null;
  if (lines > 0 || lineHasText) closePage();
  if (pages === 0) pages = 1;
  return { pages, colourPages: null, copiesInDocument: 1, duplex: null, paperSize: null, method: 'text-lines', fallback: false, warnings };
}
