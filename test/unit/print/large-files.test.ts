import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyseDocument } from '../../../secondary/print/analysis';
import { fixtureDir, handPdf } from './documents';

/** Above the 32 MiB whole-file threshold, so these go through the windowed and chunked readers. */
const BIG = 33 * 1024 * 1024;

describe('analyseDocument() on files too big to read whole', function () {
  this.timeout(60_000);

  it('counts a PDF by seeking to the tail and to each object', async () => {
    const junk = `<< /Length ${BIG} >>\nstream\n${'J'.repeat(BIG)}\nendstream`;
    const file = join(fixtureDir(), 'big.pdf');
    writeFileSync(
      file,
      handPdf(
        [
          junk,
          '<< /Type /Catalog /Pages 3 0 R >>',
          '<< /Type /Pages /Kids [4 0 R 5 0 R] /Count 2 >>',
          '<< /Type /Page /Parent 3 0 R /MediaBox [0 0 595 842] >>',
          '<< /Type /Page /Parent 3 0 R /MediaBox [0 0 595 842] >>',
        ],
        2,
      ),
    );
    const r = await analyseDocument(file);
    assert.deepEqual([r.pages, r.method, r.fallback, r.paperSize], [2, 'pdf-page-tree', false, 'A4']);
  });

  it('counts a PostScript file chunk by chunk, across chunk boundaries', async () => {
    const page = `%%Page: x x\n(${'p'.repeat(1000)}) show showpage\n`;
    const pages = Math.ceil(BIG / page.length);
    const file = join(fixtureDir(), 'big.ps');
    writeFileSync(file, `%!PS-Adobe-3.0\n%%Pages: (atend)\n${page.repeat(pages)}%%Trailer\n%%Pages: ${pages}\n`);
    const r = await analyseDocument(file, { timeBudgetMs: 20_000 });
    assert.deepEqual([r.pages, r.method, r.fallback], [pages, 'dsc-pages', false]);
  });
});
