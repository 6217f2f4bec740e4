/**
 * What a filtered CUPS queue hands the backend, made by CUPS's own filters (pdftops, which runs
 * Ghostscript's ps2write, then pstops): a PDF whose pages hold images becomes PostScript with PDF
 * content streams of binary data, which once hid every %%Page: comment after the first (6 pages
 * charged 1); a PostScript program without DSC is wrapped by pstops as one DSC page.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyseDocument, countPages } from '../../../secondary/print/analysis';
import { fixtureDir, gs } from '../../unit/print/documents';

const FILTERS = '/usr/lib/cups/filter';
const PPD = '/usr/share/ppd/cupsfilters/Generic-PDF_Printer-PDF.ppd';

/** Runs CUPS filters one after the other, as cupsd would for a queue with a PostScript driver. */
function filtered(input: string, name: string, filters: string[]): string {
  const out = join(fixtureDir(), name);
  let data = execFileSync(join(FILTERS, filters[0] as string), ['1', 'ann', name, '1', '', input], {
    env: { ...process.env, PPD },
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 256 * 1024 * 1024,
  });
  for (const f of filters.slice(1))
    data = execFileSync(join(FILTERS, f), ['1', 'ann', name, '1', ''], {
      env: { ...process.env, PPD },
      input: data,
      stdio: ['pipe', 'pipe', 'ignore'],
      maxBuffer: 256 * 1024 * 1024,
    });
  writeFileSync(out, data);
  return out;
}

/** `pages` pages, each with a 64x64 RGB image and a line of text. */
function imagePages(pages: number): string {
  let x = 7;
  const hex = (): string => {
    let h = '';
    for (let i = 0; i < 64 * 64 * 3; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      h += (x >>> 24).toString(16).padStart(2, '0');
    }
    return h;
  };
  const body = Array.from(
    { length: pages },
    (_, p) =>
      `gsave 72 400 translate 200 200 scale 64 64 8 [64 0 0 -64 0 64] currentfile /ASCIIHexDecode filter false 3 colorimage\n${hex()}>\ngrestore 72 720 moveto (Page ${p + 1}) show showpage`,
  );
  return `%!PS\n/Helvetica findfont 12 scalefont setfont\n${body.join('\n')}\n`;
}

describe('page analysis of what CUPS filters hand the backend', function () {
  this.timeout(120_000);
  before(function () {
    if (!existsSync(join(FILTERS, 'pdftops')) || !existsSync(join(FILTERS, 'pstops')) || !existsSync(PPD)) {
      if (process.env.CI === 'true') throw new Error('cups-filters is required under CI');
      this.skip();
    }
  });

  it('counts a 6-page PDF of images after pdftops and pstops exactly, on the fast path', async () => {
    const pdf = gs('filter-images-6.pdf', imagePages(6), 'pdfwrite');
    const ps = filtered(pdf, 'filter-images-6.ps', ['pdftops', 'pstops']);
    const r = await analyseDocument(ps);
    assert.deepEqual([r.pages, r.method, r.fallback], [6, 'dsc-pages', false], r.warnings.join('; '));
  });

  it('counts a non-DSC program that loops over its own page procedure after pstops (one DSC page around it) with Ghostscript', async () => {
    const source = join(fixtureDir(), 'filter-loop-5.ps');
    writeFileSync(source, '%!PS\n/Helvetica findfont 24 scalefont setfont\n/page { 72 720 moveto show showpage } def\n1 1 5 { pop (a page) page } for\n');
    const ps = filtered(source, 'filter-loop-5.pstops.ps', ['pstops']);
    const fast = await analyseDocument(ps);
    assert.deepEqual([fast.pages, fast.fallback], [1, true], 'pstops says one page; the scan must not believe it');
    const r = await countPages(ps);
    assert.deepEqual([r.pages, r.method, r.fallback], [5, 'ghostscript', false], r.warnings.join('; '));
  });
});
