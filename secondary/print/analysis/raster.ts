/**
 * PWG Raster (PWG 5102.4, sync word `RaS2`) and Apple URF (`UNIRAST`): every page has a header
 * followed by run-length compressed lines. The page data is skipped by decoding the compression
 * length-wise (line-repeat byte, then runs of pixels) without expanding it, so a page costs only
 * its compressed size. The headers give the exact page count, size, colour space, duplex and copies.
 */
import { paperSizeFromPoints } from './paper-size';
import { Budget, SeqReader, Source } from './source';
import type { Counted } from './types';

/** Pixel dimensions beyond this are hostile (a 2 m page at 2400 dpi is ~190,000). */
const MAX_DIMENSION = 1_000_000;

/** PWG/CUPS colour spaces that are grey: W (0), K (3), sGray (18). */
const PWG_GREY = new Set([0, 3, 18]);
/** URF colour spaces: 0 sGray, 4 Gray are grey; 1 sRGB, 2 CIELab, 3 AdobeRGB, 5 RGB, 6 CMYK colour. */
const URF_GREY = new Set([0, 4]);
const URF_BPP = new Set([1, 2, 4, 8, 16, 24, 32, 48, 64]);

interface Page {
  widthPx: number;
  heightPx: number;
  bytesPerPixel: number;
  pixelsPerLine: number;
}

/**
 * Skips one compressed page. Both formats: a line-repeat byte (lines = byte + 1), then control
 * bytes: 0-127 = one pixel repeated n+1 times, 129-255 = 257-n literal pixels; URF also uses 128
 * for "rest of the line is white" (in PWG it means 129 literal pixels). Returns false when the
 * data ends first (a truncated page: it still prints, partly).
 */
function skipPage(rd: SeqReader, p: Page, urf: boolean, budget: Budget): boolean {
  let lines = 0;
  while (lines < p.heightPx) {
    budget.tick();
    const rep = rd.next();
    if (rep < 0) return false;
    lines += rep + 1;
    let px = 0;
    while (px < p.pixelsPerLine) {
      budget.tick();
      const ctl = rd.next();
      if (ctl < 0) return false;
      if (ctl <= 127) {
        if (!rd.skip(p.bytesPerPixel)) return false;
        px += ctl + 1;
      } else if (ctl === 128 && urf) {
        px = p.pixelsPerLine;
      } else {
        const n = 257 - ctl;
        if (!rd.skip(n * p.bytesPerPixel)) return false;
        px += n;
      }
    }
  }
  return true;
}

export function analysePwg(src: Source, limit: number, budget: Budget, warnings: string[], progress: { pages: number }): Counted | null {
  const rd = new SeqReader(src, limit);
  const sync = rd.bytes(4);
  if (!sync || sync.toString('latin1') !== 'RaS2') return null;
  let pages = 0;
  let colour = 0;
  let copies = 1;
  let duplex: boolean | null = null;
  let paperSize: string | null = null;
  for (;;) {
    budget.tick();
    const h = rd.bytes(1796);
    if (!h) {
      if (rd.pos < Math.min(limit, src.size)) warnings.push('truncated PWG page header at the end');
      break;
    }
    pages++;
    progress.pages = pages;
    const u = (off: number): number => h.readUInt32BE(off);
    const widthPx = u(372);
    const heightPx = u(376);
    const bitsPerPixel = u(388);
    const bytesPerLine = u(392);
    const colorSpace = u(400);
    if (pages === 1) {
      duplex = u(272) !== 0;
      const nc = u(340);
      copies = nc >= 1 && nc <= 9999 ? nc : 1;
      paperSize = paperSizeFromPoints(u(352), u(356));
    }
    if (!PWG_GREY.has(colorSpace)) colour++;
    if (widthPx === 0 || heightPx === 0 || widthPx > MAX_DIMENSION || heightPx > MAX_DIMENSION || bitsPerPixel === 0 || bitsPerPixel > 240) {
      warnings.push(`PWG page ${pages} has an impossible header; stopping`);
      break;
    }
    // Compression works on whole bytes: pixels narrower than a byte are compressed as bytes.
    const bytesPerPixel = Math.max(1, Math.floor(bitsPerPixel / 8));
    const pixelsPerLine = bitsPerPixel < 8 ? bytesPerLine : widthPx;
    if (pixelsPerLine === 0) break;
    if (!skipPage(rd, { widthPx, heightPx, bytesPerPixel, pixelsPerLine }, false, budget)) {
      warnings.push(`PWG page ${pages} is truncated`);
      break;
    }
  }
  if (pages === 0) return null;
  return { pages, colourPages: colour, copiesInDocument: copies, duplex, paperSize, method: 'pwg-headers', fallback: false, warnings };
}

export function analyseUrf(src: Source, limit: number, budget: Budget, warnings: string[], progress: { pages: number }): Counted | null {
  const rd = new SeqReader(src, limit);
  const head = rd.bytes(12);
  if (!head || head.toString('latin1', 0, 8) !== 'UNIRAST\0') return null;
  const declared = head.readUInt32BE(8);
  let pages = 0;
  let colour = 0;
  let duplex: boolean | null = null;
  let paperSize: string | null = null;
  for (;;) {
    budget.tick();
    const h = rd.bytes(32);
    if (!h) {
      if (rd.pos < Math.min(limit, src.size)) warnings.push('truncated URF page header at the end');
      break;
    }
    pages++;
    progress.pages = pages;
    const bpp = h[0] ?? 0;
    const cs = h[1] ?? 0;
    const widthPx = h.readUInt32BE(12);
    const heightPx = h.readUInt32BE(16);
    const dpi = h.readUInt32BE(20);
    if (pages === 1) {
      // Duplex: 1 = simplex, 2 = short edge, 3 = long edge.
      duplex = (h[2] ?? 0) >= 2;
      if (dpi > 0) paperSize = paperSizeFromPoints((widthPx * 72) / dpi, (heightPx * 72) / dpi);
    }
    if (!URF_GREY.has(cs)) colour++;
    if (widthPx === 0 || heightPx === 0 || widthPx > MAX_DIMENSION || heightPx > MAX_DIMENSION || !URF_BPP.has(bpp)) {
      warnings.push(`URF page ${pages} has an impossible header; stopping`);
      break;
    }
    // Apple raster from libcups (gs -sDEVICE=urf) may be 1-bit: sub-byte pixels are compressed as bytes.
    const bytesPerPixel = Math.max(1, bpp / 8);
    const pixelsPerLine = bpp < 8 ? Math.ceil((widthPx * bpp) / 8) : widthPx;
    if (!skipPage(rd, { widthPx, heightPx, bytesPerPixel, pixelsPerLine }, true, budget)) {
      warnings.push(`URF page ${pages} is truncated`);
      break;
    }
  }
  if (declared !== pages && declared !== 0) warnings.push(`URF header declares ${declared} pages, ${pages} page headers found`);
  if (pages === 0) return null;
  return { pages, colourPages: colour, copiesInDocument: 1, duplex, paperSize, method: 'urf-headers', fallback: false, warnings };
}
