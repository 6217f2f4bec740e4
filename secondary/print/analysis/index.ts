/**
 * Page analysis for the CUPS backend wrapper: what format a print job is, how many pages one copy
 * prints, and what the document itself says about copies, colour, duplex and paper size.
 * analyseDocument() is the fast scan and never throws; it says whether it is certain
 * (`fallback: false`). A document it cannot count gets the size lower bound (one page per
 * started 100 KB, at least 1) with `fallback: true`. countPages() adds Ghostscript for PDF and
 * PostScript the scan is not certain of; what is still uncertain after it is not charged as
 * counted: the printer's unknownPageCount rule decides (on the secondary).
 * Rules and limits: docs/page-analysis.md.
 */
import { analysePclXl, analysePcl5, pjlCopies } from './pcl';
import { countWithGhostscript, type GhostscriptOptions } from './ghostscript';
import { analysePdf } from './pdf';
import { analysePostScript } from './postscript';
import { analysePwg, analyseUrf } from './raster';
import { Budget, BudgetExceeded, bufferSource, fileSource, Source } from './source';
import { analyseText } from './text';
import type { Counted, DocumentAnalysis, DocumentFormat } from './types';

export type { DocumentAnalysis, DocumentFormat } from './types';
export type { GhostscriptOptions } from './ghostscript';
export { paperSizeFromPoints } from './paper-size';

export const DEFAULT_TIME_BUDGET_MS = 2000;
export const DEFAULT_MAX_BYTES = 512 * 1024 * 1024;
/** The size fallback: one page per started FALLBACK_BYTES_PER_PAGE bytes. */
export const FALLBACK_BYTES_PER_PAGE = 100 * 1024;
/** Files up to this size are read into memory at once; larger ones are read in windows and chunks. */
const WHOLE_FILE_BYTES = 32 * 1024 * 1024;

const CONTENT_TYPES: Record<string, DocumentFormat> = {
  'application/pdf': 'pdf',
  'application/vnd.cups-pdf': 'pdf',
  'application/postscript': 'postscript',
  'application/vnd.cups-postscript': 'postscript',
  'image/pwg-raster': 'pwg-raster',
  'image/urf': 'urf',
  'application/vnd.hp-pcl': 'pcl5',
  'application/vnd.hp-pclxl': 'pclxl',
  'text/plain': 'text',
};

/** The format from the first bytes (magic numbers win), else from the MIME type CUPS gives. */
export function detectFormat(head: Buffer, contentType?: string): DocumentFormat {
  const text = head.toString('latin1', 0, Math.min(head.length, 4096));
  if (text.startsWith('RaS2')) return 'pwg-raster';
  if (text.startsWith('UNIRAST\0')) return 'urf';
  // Ctrl-D and PJL may precede the real data.
  let body = text.startsWith('\x04') ? text.slice(1) : text;
  if (body.startsWith('\x1b%-12345X')) {
    const lang = /@PJL\s+ENTER\s+LANGUAGE\s*=\s*([A-Z0-9]+)/i.exec(body);
    if (lang) {
      const l = (lang[1] ?? '').toUpperCase();
      if (l === 'PCLXL') return 'pclxl';
      if (l === 'PCL') return /[)(] HP-PCL XL;/.test(body) ? 'pclxl' : 'pcl5';
      if (l === 'POSTSCRIPT') return 'postscript';
      if (l === 'PDF') return 'pdf';
    }
    // eslint-disable-next-line no-control-regex -- ESC starts the PJL universal exit language
    const after = body.replace(/^\x1b%-12345X(@PJL[^\n]*\n|\r)*/, '');
    body = after;
  }
  if (/[)(] HP-PCL XL;/.test(body.slice(0, 256))) return 'pclxl';
  if (body.startsWith('%!')) return 'postscript';
  if (text.slice(0, 1024).includes('%PDF-')) return 'pdf';
  // eslint-disable-next-line no-control-regex -- ESC starts every PCL 5 command
  if (body.startsWith('\x1bE') || /^\x1b[&*(%][a-z0-9]/.test(body)) return 'pcl5';
  const fromType = contentType === undefined ? undefined : CONTENT_TYPES[contentType.split(';')[0]?.trim().toLowerCase() ?? ''];
  if (fromType !== undefined) return fromType;
  if (head.length > 0 && looksLikeText(head)) return 'text';
  return 'unknown';
}

function looksLikeText(head: Buffer): boolean {
  let bad = 0;
  const n = Math.min(head.length, 4096);
  for (let i = 0; i < n; i++) {
    const c = head[i] as number;
    if (c === 0) return false;
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x0c) bad++;
  }
  return bad * 100 <= n;
}

function sizeFallback(size: number): number {
  return Math.max(1, Math.ceil(size / FALLBACK_BYTES_PER_PAGE));
}

export async function analyseDocument(
  input: Buffer | string,
  opts: { contentType?: string; maxBytes?: number; timeBudgetMs?: number } = {},
): Promise<DocumentAnalysis> {
  await Promise.resolve();
  const warnings: string[] = [];
  let src: Source | undefined;
  try {
    src = typeof input === 'string' ? fileSource(input) : bufferSource(input);
    if (typeof input === 'string' && src.size <= WHOLE_FILE_BYTES) {
      // Small files: one read beats many windowed reads; big ones stay on disk.
      const file = src;
      const whole = file.read(0, file.size);
      file.close();
      src = bufferSource(whole);
    }
  } catch (err) {
    src?.close();
    warnings.push(`cannot read the document: ${(err as Error).message}`);
    return {
      format: 'unknown',
      pages: 1,
      colourPages: null,
      copiesInDocument: 1,
      duplex: null,
      paperSize: null,
      method: 'fallback-unreadable',
      fallback: true,
      warnings,
    };
  }
  try {
    return analyseSource(src, opts, warnings);
  } finally {
    src.close();
  }
}

/**
 * The whole chain the CUPS backend uses: the fast analysis, and when it is not certain of a PDF or
 * PostScript count (`fallback: true`), Ghostscript runs the document and counts the pages it
 * ejects (method `ghostscript`). When neither can count it the result keeps `fallback: true`, and
 * the printer's unknownPageCount rule decides (docs/page-analysis.md). Never throws.
 */
export async function countPages(
  file: string,
  opts: { contentType?: string; maxBytes?: number; timeBudgetMs?: number; ghostscript?: GhostscriptOptions | false } = {},
): Promise<DocumentAnalysis> {
  const fast = await analyseDocument(file, opts);
  if (!fast.fallback || (fast.format !== 'pdf' && fast.format !== 'postscript') || opts.ghostscript === false) return fast;
  const gs = await countWithGhostscript(file, opts.ghostscript ?? {});
  if (!gs.ok) return { ...fast, warnings: [...fast.warnings, `not counted by Ghostscript either: ${gs.reason}`] };
  return {
    ...fast,
    pages: gs.pages,
    method: 'ghostscript',
    fallback: false,
    warnings: [...fast.warnings, `counted by Ghostscript in ${gs.ms} ms (the fast analysis said ${fast.pages} by ${fast.method})`],
  };
}

function analyseSource(src: Source, opts: { contentType?: string; maxBytes?: number; timeBudgetMs?: number }, warnings: string[]): DocumentAnalysis {
  // Options out of range (NaN, negative) take the defaults: a NaN deadline would never expire.
  const positive = (v: number | undefined, dflt: number): number => (v !== undefined && Number.isFinite(v) && v > 0 ? v : dflt);
  const budgetMs = positive(opts.timeBudgetMs, DEFAULT_TIME_BUDGET_MS);
  const budget = new Budget(budgetMs);
  const maxBytes = Math.floor(positive(opts.maxBytes, DEFAULT_MAX_BYTES));
  const limit = Math.min(src.size, maxBytes);
  const progress = { pages: 0 };
  let format: DocumentFormat = 'unknown';
  const fallback = (method: string): DocumentAnalysis => {
    const pages = Math.max(progress.pages, sizeFallback(src.size));
    return { format, pages, colourPages: null, copiesInDocument: 1, duplex: null, paperSize: null, method, fallback: true, warnings };
  };
  try {
    if (src.size === 0) {
      return { format, pages: 0, colourPages: null, copiesInDocument: 1, duplex: null, paperSize: null, method: 'empty', fallback: false, warnings };
    }
    format = detectFormat(src.read(0, 4096), opts.contentType);
    let counted: Counted | null = null;
    switch (format) {
      case 'pdf':
        counted = analysePdf(src, budget, warnings);
        break;
      case 'postscript':
        counted = analysePostScript(src, limit, budget, warnings, progress);
        break;
      case 'pwg-raster':
        counted = analysePwg(src, limit, budget, warnings, progress);
        break;
      case 'urf':
        counted = analyseUrf(src, limit, budget, warnings, progress);
        break;
      case 'pcl5':
        counted = analysePcl5(src, limit, budget, warnings, progress);
        break;
      case 'pclxl':
        counted = analysePclXl(src, limit, budget, warnings, progress);
        break;
      case 'text':
        counted = analyseText(src, limit, budget, warnings, progress);
        break;
      case 'unknown':
        warnings.push('unknown document format');
        break;
    }
    if (counted !== null && counted.copiesInDocument === 1 && (format === 'pcl5' || format === 'pclxl' || format === 'postscript')) {
      counted.copiesInDocument = pjlCopies(src.read(0, 8192).toString('latin1')) ?? 1;
    }
    if (counted === null) {
      if (format !== 'unknown') warnings.push(`no pages found in the ${format} document`);
      return fallback('fallback-size');
    }
    if (src.size > limit && format !== 'pdf') {
      warnings.push(`only the first ${limit} of ${src.size} bytes were read`);
      return { format, ...counted, pages: Math.max(counted.pages, sizeFallback(src.size)), method: `${counted.method}+fallback-size`, fallback: true };
    }
    return { format, ...counted, pages: Math.max(1, counted.pages) };
  } catch (err) {
    if (err instanceof BudgetExceeded) warnings.push(`time budget of ${budgetMs} ms exceeded`);
    else warnings.push(`analysis failed: ${(err as Error).message}`);
    return fallback(err instanceof BudgetExceeded ? 'fallback-timeout' : 'fallback-size');
  }
}
