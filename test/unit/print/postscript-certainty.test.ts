/**
 * When the PostScript scan is sure of its count (`fallback: false`) and when it must say it is not,
 * so the CUPS backend runs the program in Ghostscript instead of charging what the scan saw.
 */
import assert from 'node:assert/strict';
import { analyseDocument } from '../../../secondary/print/analysis';

const ps = (text: string): Buffer => Buffer.from(`%!PS-Adobe-3.0\n${text}\n`, 'latin1');
const verdict = async (text: string): Promise<[number, string, boolean]> => {
  const r = await analyseDocument(ps(text));
  return [r.pages, r.method, r.fallback];
};

describe('PostScript: a certain count or not', () => {
  it('is sure of top-level showpages with no procedure that shows a page', async () => {
    assert.deepEqual(await verdict('(a) show showpage (b) show showpage'), [2, 'ps-showpage', false]);
  });

  it('is sure of a conforming DSC page list whose pages end in a procedure (how drivers write them)', async () => {
    assert.deepEqual(await verdict('%%Pages: 2\n%%EndProlog\n/EP { showpage } bind def\n%%Page: 1 1\nEP\n%%Page: 2 2\nEP\n%%EOF'), [2, 'dsc-pages', false]);
  });

  it("is sure under a conforming DSC list when copypage repeats a page's copies in a loop (ps2write)", async () => {
    assert.deepEqual(await verdict('%%Pages: 1\n/EP { NumCopies 1 sub { copypage } repeat showpage } bind def\n%%Page: 1 1\nEP\n%%EOF'), [
      1,
      'dsc-pages',
      false,
    ]);
  });

  it('is not sure when showpage runs inside a loop, whatever the DSC says', async () => {
    assert.deepEqual(await verdict('1 1 5 { showpage } for'), [1, 'ps-showpage-in-procedures', true]);
    assert.deepEqual(await verdict('showpage 4 { showpage } repeat'), [1, 'ps-showpage', true]);
    assert.deepEqual(await verdict('%%Pages: 1\n%%Page: 1 1\n1 1 5 { showpage } for'), [1, 'dsc-pages', true]);
    assert.deepEqual(await verdict('%%Pages: 1\n%%Page: 1 1\n[1 2 3] { { showpage } if } forall'), [1, 'dsc-pages', true]);
  });

  it('is not sure of showpage in procedures without a conforming DSC list, nor of showpage under another name', async () => {
    assert.deepEqual(await verdict('/p { showpage } def p p p'), [1, 'ps-showpage-in-procedures', true]);
    assert.deepEqual(await verdict('%%Pages: 2\n/p { showpage } def p p p'), [2, 'dsc-pages', true]);
    assert.equal((await analyseDocument(ps('/eject /showpage load def eject eject'))).fallback, true);
  });

  it('is not sure when a DSC list counts fewer pages than the calls of a page-ejecting procedure', async () => {
    assert.deepEqual(await verdict('%%Pages: 1\n%%Page: 1 1\n/p { showpage } def\np p p p p\n%%EOF'), [1, 'dsc-pages', true]);
    assert.deepEqual(await verdict('%%Pages: 1\n%%Page: 1 1\n/eject /showpage load def\neject eject\n%%EOF'), [1, 'dsc-pages', true]);
  });

  it('is not sure when a loop calls a procedure that ejects a page', async () => {
    assert.deepEqual(
      await verdict('%%Pages: 5\n%%Page: 1 1\n%%Page: 2 2\n%%Page: 3 3\n%%Page: 4 4\n%%Page: 5 5\n/page { showpage } def\n1 1 5 { pop page } for'),
      [5, 'dsc-pages', true],
    );
  });

  it('skips the PDF content streams ps2write embeds (<</Length N>>stream), so binary data in them hides no %%Page: comment', async () => {
    const content = 'q BI /W 4 /H 1 /BPC 8 /CS /G ID ((((\xff\x00 EI Q';
    const page = (n: number): string => `%%Page: ${n} ${n}\n<</Length ${Buffer.byteLength(content, 'latin1')}>>stream\n${content}endstream\nEP\n`;
    const doc = `%%Pages: (atend)\n/EP { showpage } bind def\n/stream { pop } def\n${[1, 2, 3].map(page).join('')}%%Trailer\n%%Pages: 3\n%%EOF`;
    assert.deepEqual(await verdict(doc), [3, 'dsc-pages', false]);
  });

  it('is not sure when such a stream holds a page eject (a file may define stream as it likes)', async () => {
    const hidden = '1 1 5 { showpage } for\n';
    assert.deepEqual(await verdict(`%%Pages: 1\n%%Page: 1 1\n/stream {} def\n<</Length ${hidden.length}>>stream\n${hidden}endstream\n%%EOF`), [
      1,
      'dsc-pages',
      true,
    ]);
  });

  it("is not sure of showpage inside an embedded document (CUPS's pstops wraps a non-DSC program that way, as one page)", async () => {
    const wrapped =
      '%%Pages: 1\n%%EndComments\n%%Page: 1 1\n%%BeginDocument: nondsc\n%!PS\n/page { showpage } def\npage page page page page\n%%EndDocument\n%%EOF';
    assert.deepEqual(await verdict(wrapped), [1, 'dsc-pages', true]);
  });
});
