/**
 * PCL 5 and PCL XL, best effort.
 * PCL 5: pages are form feeds plus `ESC &l0H` page ejects, skipping the binary payload of
 * escape sequences that carry data (`ESC *b#W` raster rows, `ESC (s#W` fonts, ... every `#W`,
 * and `ESC &p#X` transparent data), so a 0x0C inside image data is not a page. Trailing marks
 * after the last eject count as one more page. Copies: the last `ESC &l#X`.
 * PCL XL: the binary stream after the `) HP-PCL XL` header line; pages are EndPage (0x44)
 * operators; copies from the PageCopies attribute (0x31), duplex from DuplexPageMode (0x35),
 * paper from MediaSize (0x25) on BeginPage.
 */
import { Budget, SeqReader, Source } from './source';
import type { Counted } from './types';

const ESC = 0x1b;

/** PCL 5 page-size codes (`ESC &l#A`). */
const PCL5_SIZES: Record<number, string> = { 1: 'Executive', 2: 'Letter', 3: 'Legal', 6: 'Tabloid', 25: 'A5', 26: 'A4', 27: 'A3' };

/**
 * Copies a PJL header asks for (`@PJL SET COPIES=n` or `@PJL SET QTY=n`; the last one wins), or
 * null. Drivers put PJL in front of PCL, PCL XL and PostScript alike.
 */
export function pjlCopies(head: string): number | null {
  let copies: number | null = null;
  const re = /@PJL\s+SET\s+(?:COPIES|QTY)\s*=\s*(\d+)/gi;
  let m: RegExpExecArray | null;
  while ((m = re.exec(head)) !== null) {
    const n = Number(m[1]);
    if (n >= 1 && n <= 9999) copies = n;
  }
  return copies;
}

export function analysePcl5(src: Source, limit: number, budget: Budget, warnings: string[], progress: { pages: number }): Counted | null {
  const rd = new SeqReader(src, limit);
  let pages = 0;
  let marked = false;
  let copies = 1;
  let duplex: boolean | null = null;
  let paperSize: string | null = null;
  for (;;) {
    budget.tick();
    const c = rd.next();
    if (c < 0) break;
    if (c === 0x0c) {
      pages++;
      marked = false;
      progress.pages = pages;
      continue;
    }
    if (c !== ESC) {
      if (c > 0x20) marked = true;
      continue;
    }
    const p = rd.next();
    if (p < 0) break;
    if (p === 0x25 && rd.peek() === 0x2d) {
      // UEL (ESC %-12345X) then PJL lines up to the next ESC. Every loop over input polls the
      // budget: a hostile file can make any one of them run to the byte cap.
      while (rd.peek() >= 0 && rd.peek() !== 0x58) {
        budget.tick();
        rd.next();
      }
      rd.next();
      while (rd.peek() >= 0 && rd.peek() !== ESC) {
        budget.tick();
        rd.next();
      }
      continue;
    }
    if (p < 0x21 || p > 0x2f) continue; // two-character escape such as ESC E (reset)
    let group = 0;
    if (p !== 0x25) {
      group = rd.next();
      if (group < 0) break;
    }
    // Parameter groups: value [+-]digits[.digits] then a letter; lower case continues.
    for (;;) {
      budget.tick();
      let value = '';
      let d = rd.next();
      while (d >= 0 && (d === 0x2b || d === 0x2d || d === 0x2e || (d >= 0x30 && d <= 0x39))) {
        budget.tick();
        if (value.length < 16) value += String.fromCharCode(d);
        d = rd.next();
      }
      if (d < 0) break;
      const upper = d >= 0x40 && d <= 0x5e;
      const cmd = String.fromCharCode(d).toUpperCase();
      const n = Number(value === '' ? '0' : value);
      if (p === 0x26 && group === 0x6c) {
        // ESC &l: H = paper source (0 = eject), X = copies, S = duplex.
        if (cmd === 'H' && n === 0) {
          if (marked) pages++;
          marked = false;
          progress.pages = pages;
        } else if (cmd === 'X' && n >= 1 && n <= 999) copies = Math.floor(n);
        else if (cmd === 'A' && paperSize === null) paperSize = PCL5_SIZES[n] ?? null;
        else if (cmd === 'S') duplex = n === 1 || n === 2;
      }
      if (cmd === 'W' || (p === 0x26 && group === 0x70 && cmd === 'X')) {
        if (p === 0x2a && group === 0x62) marked = true;
        if (Number.isFinite(n) && n > 0 && !rd.skip(Math.floor(n))) break;
      }
      if (upper || !(d >= 0x60 && d <= 0x7e)) break;
    }
  }
  if (marked) pages++;
  if (pages === 0) return null;
  return { pages, colourPages: null, copiesInDocument: copies, duplex, paperSize, method: 'pcl5-form-feeds', fallback: false, warnings };
}

const XL_MEDIA: Record<number, string> = { 0: 'Letter', 1: 'Legal', 2: 'A4', 3: 'Executive', 4: 'Tabloid', 5: 'A3', 16: 'A5' };
const SCALAR: Record<number, number> = {
  0xc0: 1,
  0xc1: 2,
  0xc2: 4,
  0xc3: 2,
  0xc4: 4,
  0xc5: 4,
  0xd0: 2,
  0xd1: 4,
  0xd2: 8,
  0xd3: 4,
  0xd4: 8,
  0xd5: 8,
  0xe0: 4,
  0xe1: 8,
  0xe2: 16,
  0xe3: 8,
  0xe4: 16,
  0xe5: 16,
};
const ARRAY_ELEM: Record<number, number> = { 0xc8: 1, 0xc9: 2, 0xca: 4, 0xcb: 2, 0xcc: 4, 0xcd: 4 };

export function analysePclXl(src: Source, limit: number, budget: Budget, warnings: string[], progress: { pages: number }): Counted | null {
  // Find the stream header line.
  const head = src.read(0, Math.min(limit, 64 * 1024)).toString('latin1');
  const h = /[)(] HP-PCL XL;[^\n]*\n/.exec(head);
  if (!h) return null;
  // Binding: '(' is high byte first, ')' low byte first (PCL XL 2.0, 4.1).
  const little = head[h.index] === ')';
  const rd = new SeqReader(src, limit, h.index + h[0].length);
  let pages = 0;
  let copies: number | null = null;
  let duplex: boolean | null = null;
  let paperSize: string | null = null;
  let last = -1;
  const readUint = (n: number): number | null => {
    const b = rd.bytes(n);
    if (!b) return null;
    if (n === 1) return b[0] ?? 0;
    if (n === 2) return little ? b.readUInt16LE(0) : b.readUInt16BE(0);
    return little ? b.readUInt32LE(0) : b.readUInt32BE(0);
  };
  loop: for (;;) {
    budget.tick();
    const t = rd.next();
    if (t < 0) break;
    if (t === 0x44) {
      pages++;
      progress.pages = pages;
      continue;
    }
    const size = SCALAR[t];
    if (size !== undefined) {
      last = t === 0xc0 || t === 0xc1 || t === 0xc2 ? (readUint(size) ?? -1) : -1;
      if (last === -1 && t !== 0xc0 && t !== 0xc1 && t !== 0xc2 && !rd.skip(size)) break;
      continue;
    }
    const elem = ARRAY_ELEM[t];
    if (elem !== undefined) {
      const lt = rd.next();
      const len = lt === 0xc0 ? readUint(1) : lt === 0xc1 ? readUint(2) : null;
      if (len === null || !rd.skip(len * elem)) break;
      continue;
    }
    switch (t) {
      case 0xf8:
      case 0xf9: {
        const id = readUint(t === 0xf8 ? 1 : 2);
        if (id === null) break loop;
        if (id === 0x31 && last >= 1 && last <= 9999) copies = Math.max(copies ?? 1, last);
        else if (id === 0x35) duplex = true;
        else if (id === 0x34 && duplex === null) duplex = false;
        else if (id === 0x25 && paperSize === null && last >= 0) paperSize = XL_MEDIA[last] ?? null;
        continue;
      }
      case 0xfa:
      case 0xfb: {
        const len = readUint(t === 0xfa ? 4 : 1);
        if (len === null || !rd.skip(len)) break loop;
        continue;
      }
      case 0x1b:
        break loop; // UEL: back to PJL
      default:
        continue; // whitespace and other operators
    }
  }
  if (pages === 0) return null;
  return { pages, colourPages: null, copiesInDocument: copies ?? 1, duplex, paperSize, method: 'pclxl-endpage', fallback: false, warnings };
}
