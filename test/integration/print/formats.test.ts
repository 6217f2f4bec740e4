import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { analyseDocument, detectFormat } from '../../../secondary/print/analysis';
import { gs, incrementalUpdate, pdf, pdfinfoPages, psProgram, pstops, qpdf } from '../../unit/print/documents';

describe('analyseDocument() on real documents', function () {
  this.timeout(60_000);

  describe('PDF', () => {
    for (const pages of [1, 3, 250]) {
      it(`counts ${pages} page(s) from the page tree of a ghostscript PDF, as pdfinfo does`, async () => {
        const file = pdf(pages);
        const r = await analyseDocument(file);
        assert.equal(r.format, 'pdf');
        assert.equal(r.pages, pages);
        assert.equal(r.pages, pdfinfoPages(file));
        assert.equal(r.method, 'pdf-page-tree');
        assert.equal(r.fallback, false);
        assert.equal(r.paperSize, 'A4');
      });
    }

    it('reads Letter from the MediaBox', async () => {
      const r = await analyseDocument(pdf(2, 'letter'));
      assert.equal(r.paperSize, 'Letter');
      assert.equal(r.pages, 2);
    });

    it('follows xref streams and object streams (qpdf --object-streams=generate)', async () => {
      const file = qpdf('p250-objstm.pdf', ['--object-streams=generate', pdf(250)]);
      assert.match(readFileSync(file, 'latin1'), /\/ObjStm/);
      const r = await analyseDocument(file);
      assert.deepEqual([r.pages, r.method, r.fallback], [250, 'pdf-page-tree', false]);
    });

    it('counts a linearized PDF (qpdf --linearize) from its last xref', async () => {
      const file = qpdf('p3-linear.pdf', ['--linearize', pdf(3)]);
      const r = await analyseDocument(file);
      assert.deepEqual([r.pages, r.fallback], [3, false]);
      assert.equal(r.pages, pdfinfoPages(file));
    });

    it('takes the newest trailer of an incremental update that removes pages', async () => {
      const file = incrementalUpdate(pdf(3), 'p3-minus1.pdf', 2, 0);
      assert.equal(pdfinfoPages(file), 2);
      const r = await analyseDocument(file);
      assert.deepEqual([r.pages, r.method, r.fallback], [2, 'pdf-page-tree', false]);
    });

    it('takes the newest trailer of an incremental update that adds pages', async () => {
      const file = incrementalUpdate(pdf(3), 'p3-plus2.pdf', 3, 2);
      assert.equal(pdfinfoPages(file), 5);
      assert.equal((await analyseDocument(file)).pages, 5);
    });

    it('counts offsets from %PDF- when PJL comes first', async () => {
      const pjl = Buffer.from('\x1b%-12345X@PJL JOB\n@PJL ENTER LANGUAGE=PDF\n', 'latin1');
      const r = await analyseDocument(Buffer.concat([pjl, readFileSync(pdf(3)), Buffer.from('\x1b%-12345X', 'latin1')]));
      assert.deepEqual([r.format, r.pages, r.method], ['pdf', 3, 'pdf-page-tree']);
    });

    it('reads a buffer as well as a path', async () => {
      const r = await analyseDocument(readFileSync(pdf(3)));
      assert.equal(r.pages, 3);
    });
  });

  describe('PostScript', () => {
    it('counts DSC pages of a ps2write document', async () => {
      const file = gs('p3-ps2write.ps', psProgram(3), 'ps2write', ['-sPAPERSIZE=a4']);
      const r = await analyseDocument(file);
      assert.deepEqual([r.format, r.pages, r.method, r.fallback], ['postscript', 3, 'dsc-pages', false]);
    });

    it('counts top-level showpage when there is no DSC', async () => {
      const r = await analyseDocument(Buffer.from(psProgram(4)));
      assert.deepEqual([r.pages, r.method, r.fallback], [4, 'ps-showpage', false]);
    });

    it('takes the larger count when DSC says fewer pages than the document prints', async () => {
      const r = await analyseDocument(Buffer.from(psProgram(5, { dsc: true, dscPages: 2 })));
      assert.equal(r.pages, 5);
      assert.ok(r.warnings.some((w) => /%%Pages: says 2/.test(w)));
    });

    it('takes the larger count when DSC says more pages than the showpages it has', async () => {
      const lying = psProgram(2, { dsc: true, dscPages: 6 });
      const r = await analyseDocument(Buffer.from(lying));
      assert.deepEqual([r.pages, r.method], [6, 'dsc-pages']);
    });

    it('reads %%Pages: (atend) from the trailer', async () => {
      const doc = '%!PS-Adobe-3.0\n%%Pages: (atend)\n%%EndComments\n%%Page: 1 1\nshowpage\n%%Page: 2 2\nshowpage\n%%Trailer\n%%Pages: 2\n%%EOF\n';
      const r = await analyseDocument(Buffer.from(doc));
      assert.deepEqual([r.pages, r.method], [2, 'dsc-pages']);
    });

    it('ignores showpage in comments, strings and embedded documents', async () => {
      const doc = [
        '%!PS',
        '% showpage in a comment',
        '(showpage in a string) pop',
        '<73686f77706167650a> pop',
        '%%BeginDocument: inner.eps',
        '%%Pages: 9',
        'showpage showpage',
        '%%EndDocument',
        'showpage',
        '',
      ].join('\n');
      const r = await analyseDocument(Buffer.from(doc));
      assert.equal(r.pages, 1);
    });

    it('notes copies from setpagedevice NumCopies and #copies, and Duplex', async () => {
      const a = await analyseDocument(Buffer.from(psProgram(2, { prolog: '<< /NumCopies 3 /Duplex true >> setpagedevice' })));
      assert.deepEqual([a.pages, a.copiesInDocument, a.duplex], [2, 3, true]);
      const b = await analyseDocument(Buffer.from(psProgram(1, { prolog: 'userdict /#copies 4 put' })));
      assert.deepEqual([b.copiesInDocument, b.duplex], [4, null]);
      const c = await analyseDocument(Buffer.from(psProgram(1, { prolog: '<< /Duplex false /PageSize [612 792] >> setpagedevice' })));
      assert.deepEqual([c.duplex, c.paperSize], [false, 'Letter']);
    });

    it('reads the copies a driver or pstops marks with %%BeginNonPPDFeature, not the roll operand after /NumCopies', async () => {
      const feature = [
        'featurebegin{',
        '%%BeginNonPPDFeature: NumCopies 3',
        '3 /languagelevel where {pop languagelevel}{1} ifelse',
        '2 ge { 1 dict dup /NumCopies 4 -1 roll put setpagedevice }{ userdict /#copies 3 -1 roll put } ifelse',
        '%%EndNonPPDFeature',
        '}featurecleanup',
      ].join('\n');
      const r = await analyseDocument(Buffer.from(psProgram(2, { dsc: true, prolog: feature })));
      assert.deepEqual([r.pages, r.copiesInDocument], [2, 3]);
    });

    it("reads the copies CUPS's pstops filter marks for a filtered queue", async () => {
      const file = pstops('p3-pstops-x3.ps', gs('p3-ps2write.ps', psProgram(3), 'ps2write', ['-sPAPERSIZE=a4']), 3);
      const r = await analyseDocument(file);
      assert.deepEqual([r.pages, r.copiesInDocument, r.method], [3, 3, 'dsc-pages']);
    });

    it('reads the paper size from %%DocumentMedia', async () => {
      const doc = '%!PS-Adobe-3.0\n%%DocumentMedia: Plain 595 842 0 () ()\n%%Pages: 1\n%%Page: 1 1\nshowpage\n';
      assert.equal((await analyseDocument(Buffer.from(doc))).paperSize, 'A4');
    });

    it('falls back, flagged, when showpage is only inside a procedure (a loop it cannot run)', async () => {
      const r = await analyseDocument(Buffer.from('%!PS\n1 1 10 { pop showpage } for\n'));
      assert.deepEqual([r.pages, r.fallback, r.method], [1, true, 'ps-showpage-in-procedures']);
    });
  });

  describe('PWG Raster', () => {
    it('reads every page header of a ghostscript pwgraster file: A4 grey simplex', async () => {
      const file = gs('p3.pwg', psProgram(3), 'pwgraster', ['-r50', '-sPAPERSIZE=a4']);
      const r = await analyseDocument(file);
      assert.deepEqual(
        [r.format, r.pages, r.colourPages, r.duplex, r.paperSize, r.copiesInDocument, r.method, r.fallback],
        ['pwg-raster', 3, 0, false, 'A4', 1, 'pwg-headers', false],
      );
    });

    it('sees colour pages, Letter, duplex and copies in the header', async () => {
      const file = gs('p4-colour.pwg', psProgram(4, { colour: true }), 'pwgraster', [
        '-r50',
        '-sPAPERSIZE=letter',
        '-dcupsColorSpace=19',
        '-dcupsBitsPerColor=8',
        '-dDuplex',
        '-dNumCopies=2',
      ]);
      const r = await analyseDocument(file);
      assert.deepEqual([r.pages, r.colourPages, r.paperSize, r.duplex, r.copiesInDocument], [4, 4, 'Letter', true, 2]);
    });
  });

  describe('Apple URF', () => {
    it('reads every page header of a ghostscript urf file', async () => {
      const file = gs('p3.urf', psProgram(3), 'urf', ['-r50', '-sPAPERSIZE=letter']);
      const r = await analyseDocument(file);
      assert.deepEqual([r.format, r.pages, r.colourPages, r.paperSize, r.method], ['urf', 3, 0, 'Letter', 'urf-headers']);
    });

    it('sees colour pages in an sRGB urf file', async () => {
      const file = gs('p2-colour.urf', psProgram(2, { colour: true }), 'urf', ['-r50', '-sPAPERSIZE=a4', '-dcupsColorSpace=19', '-dcupsBitsPerColor=8']);
      const r = await analyseDocument(file);
      assert.deepEqual([r.pages, r.colourPages, r.paperSize], [2, 2, 'A4']);
    });
  });

  describe('PCL', () => {
    it('counts form feeds of a ghostscript ljet4 (PCL 5) file', async () => {
      const file = gs('p3.pcl', psProgram(3), 'ljet4', ['-r75']);
      const r = await analyseDocument(file);
      assert.deepEqual([r.format, r.pages, r.method], ['pcl5', 3, 'pcl5-form-feeds']);
    });

    it('reads copies (ESC &l#X) and the page size (ESC &l#A) of a ghostscript ljet4 file', async () => {
      const file = gs('p2-x2.pcl', psProgram(2), 'ljet4', ['-r75', '-dNumCopies=2', '-sPAPERSIZE=a4']);
      const r = await analyseDocument(file);
      assert.deepEqual([r.pages, r.copiesInDocument, r.paperSize], [2, 2, 'A4']);
    });

    it('reads copies from a PJL header', async () => {
      const doc = Buffer.from('\x1b%-12345X@PJL JOB\n@PJL SET COPIES=4\n@PJL ENTER LANGUAGE=PCL\n\x1bE(text)\x0c\x1bE\x1b%-12345X', 'latin1');
      const r = await analyseDocument(doc);
      assert.deepEqual([r.format, r.pages, r.copiesInDocument], ['pcl5', 1, 4]);
    });

    it('reads copies (ESC &l#X) and page ejects (ESC &l0H), and skips 0x0C inside raster data', async () => {
      const raster = Buffer.from([0x0c, 0x0c, 0x0c]);
      const doc = Buffer.concat([
        Buffer.from('\x1bE\x1b&l2X\x1b*r1A\x1b*b3W', 'latin1'),
        raster,
        Buffer.from('\x1b*rB\x1b&l0H\x1b*b3W', 'latin1'),
        raster,
        Buffer.from('\x0c\x1bE', 'latin1'),
      ]);
      const r = await analyseDocument(doc);
      assert.deepEqual([r.format, r.pages, r.copiesInDocument], ['pcl5', 2, 2]);
    });

    for (const device of ['pxlmono', 'pxlcolor']) {
      it(`counts EndPage operators of a ghostscript ${device} (PCL XL) file`, async () => {
        const file = gs(`p3.${device}`, psProgram(3), device, ['-r75', '-sPAPERSIZE=a4']);
        const r = await analyseDocument(file);
        assert.deepEqual([r.format, r.pages, r.copiesInDocument, r.paperSize, r.method], ['pclxl', 3, 1, 'A4', 'pclxl-endpage']);
      });
    }

    it('reads PageCopies from a PCL XL file', async () => {
      const file = gs('p2-copies.pxlmono', psProgram(2), 'pxlmono', ['-r75', '-dNumCopies=3']);
      const r = await analyseDocument(file);
      assert.deepEqual([r.pages, r.copiesInDocument], [2, 3]);
    });
  });

  describe('plain text', () => {
    it('counts 60 lines a page', async () => {
      const lines = (n: number): string => Array.from({ length: n }, (_, i) => `line ${i}`).join('\n') + '\n';
      assert.equal((await analyseDocument(Buffer.from(lines(1)))).pages, 1);
      assert.equal((await analyseDocument(Buffer.from(lines(60)))).pages, 1);
      assert.equal((await analyseDocument(Buffer.from(lines(61)))).pages, 2);
      assert.equal((await analyseDocument(Buffer.from(lines(250)))).pages, 5);
    });

    it('counts CRLF and lone-CR line ends alike', async () => {
      const crlf = Array.from({ length: 61 }, (_, i) => `line ${i}`).join('\r\n');
      assert.equal((await analyseDocument(Buffer.from(crlf))).pages, 2);
      const cr = Array.from({ length: 61 }, (_, i) => `line ${i}`).join('\r');
      assert.equal((await analyseDocument(Buffer.from(cr))).pages, 2);
    });

    it('starts a new page at each form feed', async () => {
      const r = await analyseDocument(Buffer.from('one\n\ftwo\n\fthree'));
      assert.deepEqual([r.format, r.pages, r.method], ['text', 3, 'text-lines']);
    });
  });

  describe('detectFormat()', () => {
    it('knows each format by its magic, PJL included, before the MIME type', () => {
      assert.equal(detectFormat(Buffer.from('%PDF-1.7\n'), 'text/plain'), 'pdf');
      assert.equal(detectFormat(Buffer.from('\x04%!PS-Adobe-3.0\n')), 'postscript');
      assert.equal(detectFormat(Buffer.from('RaS2')), 'pwg-raster');
      assert.equal(detectFormat(Buffer.from('UNIRAST\0')), 'urf');
      assert.equal(detectFormat(Buffer.from('\x1b%-12345X@PJL ENTER LANGUAGE=PCLXL\n) HP-PCL XL;2;0\n')), 'pclxl');
      assert.equal(detectFormat(Buffer.from('\x1b%-12345X@PJL ENTER LANGUAGE=POSTSCRIPT\n%!PS\n')), 'postscript');
      assert.equal(detectFormat(Buffer.from('\x1bE\x1b&l1X')), 'pcl5');
      assert.equal(detectFormat(Buffer.from('hello\n')), 'text');
      assert.equal(detectFormat(Buffer.from([0, 1, 2, 3, 0xff])), 'unknown');
      assert.equal(detectFormat(Buffer.from([0, 1, 2, 3, 0xff]), 'application/pdf'), 'pdf');
    });
  });
});
