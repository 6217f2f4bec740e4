import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { analyseDocument, DocumentAnalysis, FALLBACK_BYTES_PER_PAGE } from '../../../secondary/print/analysis';
import { dagPdf, gs, handPdf, pdf, psProgram, qpdf } from '../../unit/print/documents';
import { PDF_LIMITS } from '../../../secondary/print/analysis/pdf';

const BUDGET_MS = 500;
/** Slack over the budget for the last step before the clock is polled and for a slow shared CI core. */
const SLACK_MS = 750;

async function analyseBounded(doc: Buffer, what: string, opts: { timeBudgetMs?: number; maxBytes?: number } = {}): Promise<DocumentAnalysis> {
  const t0 = Date.now();
  const r = await analyseDocument(doc, { timeBudgetMs: BUDGET_MS, ...opts });
  const ms = Date.now() - t0;
  assert.ok(ms <= (opts.timeBudgetMs ?? BUDGET_MS) + SLACK_MS, `${what}: took ${ms} ms`);
  if (doc.length > 0) assert.ok(r.pages >= 1, `${what}: ${r.pages} pages for a ${doc.length}-byte document`);
  return r;
}

describe('analyseDocument() on hostile input', function () {
  this.timeout(60_000);

  it('returns 0 pages, not a fallback, only for an empty document', async () => {
    const r = await analyseDocument(Buffer.alloc(0));
    assert.deepEqual([r.pages, r.fallback, r.method], [0, false, 'empty']);
  });

  it('charges the size fallback for an unreadable path instead of throwing', async () => {
    const r = await analyseDocument('/nonexistent/quotient/job.pdf');
    assert.deepEqual([r.pages, r.fallback, r.method], [1, true, 'fallback-unreadable']);
  });

  it('charges a page, not zero, for a pipe or device whose size reads as 0', async () => {
    const r = await analyseDocument('/dev/null');
    assert.deepEqual([r.pages, r.fallback, r.method], [1, true, 'fallback-unreadable']);
    assert.match(r.warnings.join(' '), /not a regular file/);
  });

  it('charges one page per started 100 KB for garbage', async () => {
    let seed = 7;
    const garbage = Buffer.alloc(350 * 1024);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    garbage[0] = 0; // not text
    const r = await analyseBounded(garbage, 'garbage');
    assert.equal(FALLBACK_BYTES_PER_PAGE, 100 * 1024);
    assert.deepEqual([r.format, r.pages, r.fallback, r.method], ['unknown', 4, true, 'fallback-size']);
  });

  it('survives every format truncated at many cut points, never counting 0 pages', async () => {
    const files = [
      pdf(3),
      qpdf('p3-objstm.pdf', ['--object-streams=generate', pdf(3)]),
      gs('t3.ps', psProgram(3, { dsc: true }), 'ps2write'),
      gs('t3.pwg', psProgram(3), 'pwgraster', ['-r30']),
      gs('t3.urf', psProgram(3), 'urf', ['-r30']),
      gs('t3.pcl', psProgram(3), 'ljet4', ['-r75']),
      gs('t3.pxl', psProgram(3), 'pxlmono', ['-r75']),
    ];
    let runs = 0;
    for (const file of files) {
      const whole = readFileSync(file);
      for (let k = 1; k < 40; k++) {
        const cut = Math.floor((whole.length * k) / 40);
        await analyseBounded(whole.subarray(0, cut), `${file} cut at ${cut}`);
        runs++;
      }
      for (const cut of [1, 2, 3, 5, 8, 13, 100, 1796, 1800]) {
        if (cut < whole.length) await analyseBounded(whole.subarray(0, cut), `${file} cut at ${cut}`);
      }
    }
    assert.equal(runs, 39 * files.length);
  });

  it('counts a truncated PWG raster file by its complete page headers', async () => {
    const whole = readFileSync(gs('t3.pwg', psProgram(3), 'pwgraster', ['-r30']));
    const r = await analyseBounded(whole.subarray(0, whole.length - 10), 'pwg cut');
    assert.equal(r.pages, 3);
    assert.ok(r.warnings.some((w) => /truncated/.test(w)));
  });

  it('stops at a /Kids cycle and charges at least the pages it reached', async () => {
    const doc = handPdf([
      '<< /Type /Catalog /Pages 2 0 R >>',
      '<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>',
      '<< /Type /Pages /Kids [2 0 R 4 0 R] /Count 1 >>',
      '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>',
    ]);
    const r = await analyseBounded(doc, 'kids cycle');
    assert.equal(r.fallback, true);
    assert.equal(r.pages, 2);
  });

  it('does not believe /Count 2147483647 when the tree has one page', async () => {
    const doc = handPdf(['<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [3 0 R] /Count 2147483647 >>', '<< /Type /Page /Parent 2 0 R >>']);
    const r = await analyseBounded(doc, 'huge count');
    assert.deepEqual([r.pages, r.fallback], [1, false]);
    assert.ok(r.warnings.some((w) => /Count says 2147483647/.test(w)));
  });

  it('bounds a page tree nested 10,000 levels deep', async () => {
    const objs = ['<< /Type /Catalog /Pages 2 0 R >>'];
    for (let i = 2; i < 10_002; i++) objs.push(`<< /Type /Pages /Kids [${i + 1} 0 R] /Count 1 >>`);
    objs.push('<< /Type /Page >>');
    const r = await analyseBounded(handPdf(objs), 'deep tree');
    assert.equal(r.fallback, true);
  });

  // A page costs a PDF at least a few dozen bytes: a tree claiming more pages than size / 20 lies.
  const plausiblePages = (doc: Buffer): number => Math.floor(doc.length / 20);

  it('walks a page tree whose every node names the same child twice (2^64 leaves) within the budget, charging what the file size allows', async () => {
    const doc = dagPdf(2, 64);
    const r = await analyseBounded(doc, 'DAG fan-out 2, depth 64');
    assert.deepEqual([r.pages, r.method, r.fallback], [plausiblePages(doc), 'pdf-page-tree', true]);
    assert.ok(
      r.warnings.some((w) => w.includes(`more than ${plausiblePages(doc)} pages`)),
      r.warnings.join('; '),
    );
  });

  it('walks a page tree naming the same page 1,000 times per node, three levels deep, within the budget', async () => {
    const doc = dagPdf(1000, 3);
    const r = await analyseBounded(doc, 'DAG fan-out 1,000, depth 3');
    assert.deepEqual([r.pages, r.method, r.fallback], [plausiblePages(doc), 'pdf-page-tree', true]);
  });

  it('counts a node naming the same page 1,000 times as the 1,000 pages it prints when the file can hold them', async () => {
    // Padding makes the file large enough that 1,000 pages are plausible (size / 20).
    const doc = handPdf([
      '<< /Type /Catalog /Pages 2 0 R >>',
      `<< /Type /Pages /Kids [${'3 0 R '.repeat(1000)}] /Count 1000 /Pad (${'x'.repeat(20_000)}) >>`,
      '<< /Type /Page >>',
    ]);
    const r = await analyseBounded(doc, 'one page named 1,000 times');
    assert.deepEqual([r.pages, r.method, r.fallback], [1000, 'pdf-page-tree', false]);
  });

  it('stops walking a DAG page tree with no page at its leaves after its visit cap, falling back on the size', async () => {
    const doc = dagPdf(2, 64, '42');
    const r = await analyseBounded(doc, 'DAG without pages');
    assert.equal(r.fallback, true);
    assert.equal(r.pages, 1); // one page per started 100 KiB of a 3 KiB file
    // Which limit ends it first depends on the machine: 1,000,000 visits, or 500 ms.
    assert.ok(['fallback-size', 'fallback-timeout'].includes(r.method), r.method);
  });

  it('polls the budget inside PCL 5 escape sequences that run to the end of the file', async () => {
    const endlessUel = Buffer.concat([Buffer.from('\x1bE\x1b%-', 'latin1'), Buffer.alloc(20 * 1024 * 1024, 'A')]);
    const endlessNumber = Buffer.concat([Buffer.from('\x1bE\x1b&l', 'latin1'), Buffer.alloc(20 * 1024 * 1024, '1')]);
    for (const [what, doc] of [
      ['a UEL without its X', endlessUel],
      ['a 20 MB parameter value', endlessNumber],
    ] as const) {
      const r = await analyseBounded(doc, what, { timeBudgetMs: 1 });
      assert.deepEqual([r.format, r.method, r.pages], ['pcl5', 'fallback-timeout', 205], what); // 20 MiB / 100 KiB
    }
  });

  it('bounds 10,000 nested arrays in one object', async () => {
    const doc = handPdf([
      '<< /Type /Catalog /Pages 2 0 R >>',
      '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
      `<< /Type /Page /Junk ${'['.repeat(10_000)}${']'.repeat(10_000)} >>`,
    ]);
    const r = await analyseBounded(doc, 'nested arrays');
    assert.ok(r.pages >= 1);
  });

  it('stops inflating a Flate bomb at the decompressed-size cap', async () => {
    const bomb = deflateSync(Buffer.alloc(80 * 1024 * 1024), { level: 9 });
    const head = Buffer.from(
      `%PDF-1.5\n1 0 obj\n<< /Type /XRef /Size 3 /W [1 4 2] /Root 2 0 R /Filter /FlateDecode /Length ${bomb.length} >>\nstream\n`,
      'latin1',
    );
    const tail = Buffer.from(
      `\nendstream\nendobj\n2 0 obj\n<< /Type /Catalog /Pages 3 0 R >>\nendobj\n3 0 obj\n<< /Type /Pages /Kids [4 0 R] /Count 1 >>\nendobj\n4 0 obj\n<< /Type /Page >>\nendobj\nstartxref\n9\n%%EOF\n`,
      'latin1',
    );
    // The proof is the cap, not the clock: with all the time in the world, inflating stops at
    // 64 MiB of the 80 (the limit's own error), and the page tree is rebuilt without that stream.
    assert.equal(PDF_LIMITS.maxInflated, 64 * 1024 * 1024);
    const r = await analyseDocument(Buffer.concat([head, bomb, tail]), { timeBudgetMs: 600_000 });
    assert.deepEqual([r.pages, r.fallback, r.method], [1, true, 'pdf-reconstructed-tree']);
    assert.deepEqual(r.warnings, [
      `xref/page tree unreadable (FlateDecode failed: Cannot create a Buffer larger than ${PDF_LIMITS.maxInflated} bytes); rebuilding the object table`,
    ]);
  });

  it('bounds headers that claim gigabytes', async () => {
    const pwg = Buffer.alloc(4 + 1796);
    pwg.write('RaS2');
    pwg.writeUInt32BE(0x7fffffff, 4 + 372);
    pwg.writeUInt32BE(0x7fffffff, 4 + 376);
    pwg.writeUInt32BE(24, 4 + 388);
    pwg.writeUInt32BE(0xffffffff, 4 + 392);
    assert.equal((await analyseBounded(pwg, '2 GB PWG page')).pages, 1);

    const urf = Buffer.alloc(12 + 32);
    urf.write('UNIRAST\0');
    urf.writeUInt32BE(0xffffffff, 8);
    urf[12] = 24;
    urf.writeUInt32BE(100_000, 24);
    urf.writeUInt32BE(100_000, 28);
    assert.equal((await analyseBounded(urf, '4G-page URF')).pages, 1);

    const pxl = Buffer.concat([Buffer.from(') HP-PCL XL;2;0\n', 'latin1'), Buffer.from([0x41, 0x43, 0xfa, 0xff, 0xff, 0xff, 0x7f, 0x44])]);
    assert.ok((await analyseBounded(pxl, '2 GB PCL XL embedded data')).pages >= 1);

    const pdfDoc = Buffer.from('%PDF-1.4\ntrailer << /Root 1 0 R /Size 2147483647 >>\nstartxref\n2147483648\n%%EOF\n', 'latin1');
    assert.ok((await analyseBounded(pdfDoc, 'PDF xref at 2 GB')).fallback);
  });

  it('rebuilds the object table of a PDF whose xref is garbage', async () => {
    const good = readFileSync(pdf(3)).toString('latin1');
    const broken = Buffer.from(good.replace(/startxref\s+\d+/, 'startxref\n17'), 'latin1');
    const r = await analyseBounded(broken, 'broken xref');
    assert.deepEqual([r.pages, r.method, r.fallback], [3, 'pdf-reconstructed-tree', true]);
  });

  it('walks /Kids when /Count is missing', async () => {
    const doc = handPdf([
      '<< /Type /Catalog /Pages 2 0 R >>',
      '<< /Type /Pages /Kids [3 0 R 4 0 R] >>',
      '<< /Type /Pages /Kids [5 0 R 5 0 R] >>',
      '<< /Type /Page /Parent 2 0 R >>',
      '<< /Type /Page /Parent 3 0 R /MediaBox [0 0 842 1191] >>',
    ]);
    const r = await analyseBounded(doc, 'no count');
    assert.deepEqual([r.pages, r.method, r.fallback], [3, 'pdf-page-tree', false]);
  });

  it('counts the page objects when there is no catalog to start from', async () => {
    const doc = handPdf(['<< /Type /Pages /Kids [2 0 R 3 0 R 4 0 R] /Count 3 >>', '<< /Type /Page >>', '<< /Type /Page >>', '<< /Type /Page >>'], 9);
    const r = await analyseBounded(doc, 'no catalog');
    assert.deepEqual([r.pages, r.method, r.fallback], [3, 'pdf-page-scan', true]);
  });

  it('falls back on the size when the time budget runs out, and says so', async () => {
    const text = Buffer.alloc(20 * 1024 * 1024, 'a line of text\n');
    const r = await analyseBounded(text, 'slow text', { timeBudgetMs: 1 });
    assert.equal(r.method, 'fallback-timeout');
    assert.equal(r.fallback, true);
    assert.ok(r.pages >= Math.ceil(text.length / FALLBACK_BYTES_PER_PAGE));
  });

  it('takes the default limits for options out of range', async () => {
    const r = await analyseDocument(Buffer.from('one\ntwo\n'), { timeBudgetMs: Number.NaN, maxBytes: -1 });
    assert.deepEqual([r.pages, r.fallback], [1, false]);
  });

  it('reads at most maxBytes, then charges the larger of what it counted and the size fallback', async () => {
    const text = Buffer.alloc(1024 * 1024, 'x\n');
    const counted = await analyseBounded(text, 'capped text', { maxBytes: 4096 });
    assert.deepEqual([counted.pages, counted.fallback, counted.method], [35, true, 'text-lines+fallback-size']); // 2,048 lines read
    const sized = await analyseBounded(Buffer.alloc(1024 * 1024, 'x'), 'capped line', { maxBytes: 4096 });
    assert.deepEqual([sized.pages, sized.fallback], [11, true]); // 1 MiB / 100 KiB, started
  });
});
