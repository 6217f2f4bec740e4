/**
 * Encrypted PDFs against the real tools that write them: qpdf --encrypt with the empty user
 * password (RC4 40 and 128, AES-128, AES-256 revisions 5 and 6), with the page tree inside
 * object streams, from Ghostscript's pdfwrite and from groff. Before the security handler was
 * read, every one of these was charged one page (the object streams could not be inflated).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyseDocument, countPages } from '../../../secondary/print/analysis';
import { fixtureDir, gs, pdfinfoPages, qpdf, requireTool } from '../../unit/print/documents';

/** A PostScript program that prints `pages` pages from a loop (pdfwrite turns it into an ordinary PDF). */
const looped = (pages: number): string => `%!PS\n/Helvetica findfont 24 scalefont setfont\n1 1 ${pages} { 72 720 moveto (Page) show showpage } for\n`;

/** groff's own PDF output (gropdf), `pages` pages of the ms macros. */
function groffPdf(pages: number): string {
  requireTool('groff', 'groff');
  const out = join(fixtureDir(), `groff-${pages}.pdf`);
  if (!existsSync(out)) {
    const source = Array.from({ length: pages }, (_, i) => `.LP\nPage ${i + 1} of a groff document.\n`).join('.bp\n');
    execFileSync('sh', ['-c', `groff -ms -Tpdf > '${out}'`], { input: source, stdio: ['pipe', 'pipe', 'pipe'] });
  }
  return out;
}

const ENCRYPTIONS: { name: string; args: string[] }[] = [
  { name: 'RC4 40-bit (revision 2)', args: ['--allow-weak-crypto', '--encrypt', '', 'owner-secret', '40', '--'] },
  { name: 'RC4 128-bit (revision 3)', args: ['--allow-weak-crypto', '--encrypt', '', 'owner-secret', '128', '--use-aes=n', '--'] },
  { name: 'AES-128 (AESV2, revision 4)', args: ['--allow-weak-crypto', '--encrypt', '', 'owner-secret', '128', '--use-aes=y', '--'] },
  { name: 'AES-256 (AESV3, revision 6)', args: ['--encrypt', '', 'owner-secret', '256', '--'] },
  { name: 'AES-256 (AESV3, deprecated revision 5)', args: ['--allow-weak-crypto', '--encrypt', '', 'owner-secret', '256', '--force-R5', '--'] },
];

describe('page analysis of encrypted PDFs (qpdf --encrypt, empty user password)', function () {
  this.timeout(60_000);

  for (const [i, enc] of ENCRYPTIONS.entries()) {
    it(`counts a 7-page pdfwrite PDF under ${enc.name} with its page tree in object streams, exactly, without Ghostscript`, async () => {
      const plain = gs('enc-source-7.pdf', looped(7), 'pdfwrite');
      const file = qpdf(`enc-${i}-7.pdf`, [...enc.args, '--object-streams=generate', plain]);
      assert.equal(pdfinfoPages(file), 7);
      const r = await analyseDocument(file);
      assert.deepEqual([r.pages, r.method, r.fallback, r.paperSize], [7, 'pdf-page-tree', false, 'A4'], r.warnings.join('; '));
    });
  }

  it('counts a 12-page groff PDF encrypted with AES-256 and object streams', async () => {
    const file = qpdf('enc-groff-12.pdf', ['--encrypt', '', 'owner-secret', '256', '--', '--object-streams=generate', groffPdf(12)]);
    const r = await analyseDocument(file);
    assert.deepEqual([r.pages, r.method, r.fallback], [12, 'pdf-page-tree', false], r.warnings.join('; '));
  });

  it('counts 250 pages under RC4 128 with object streams (many objects per encrypted stream)', async () => {
    const file = qpdf('enc-rc4-250.pdf', [
      '--allow-weak-crypto',
      '--encrypt',
      '',
      'o',
      '128',
      '--use-aes=n',
      '--',
      '--object-streams=generate',
      gs('enc-source-250.pdf', looped(250), 'pdfwrite'),
    ]);
    const r = await analyseDocument(file);
    assert.deepEqual([r.pages, r.fallback], [250, false]);
  });

  it('rebuilds the object table of an encrypted PDF whose startxref is wrong, and still decrypts its object streams', async () => {
    const file = qpdf('enc-aes-broken-src.pdf', [
      '--allow-weak-crypto',
      '--encrypt',
      '',
      'o',
      '128',
      '--use-aes=y',
      '--',
      '--object-streams=generate',
      gs('enc-source-7.pdf', looped(7), 'pdfwrite'),
    ]);
    const bytes = readFileSync(file);
    const at = bytes.lastIndexOf('startxref');
    const broken = Buffer.concat([bytes.subarray(0, at), Buffer.from('startxref\n999999999\n%%EOF\n')]);
    const r = await analyseDocument(broken);
    assert.deepEqual([r.pages, r.method, r.fallback], [7, 'pdf-reconstructed-tree', true]);
  });

  it('says it cannot count a PDF whose user password is not empty (a printer cannot open it either): pages unknown after Ghostscript too', async () => {
    const file = qpdf('enc-password-7.pdf', [
      '--encrypt',
      'user-secret',
      'owner-secret',
      '256',
      '--',
      '--object-streams=generate',
      gs('enc-source-7.pdf', looped(7), 'pdfwrite'),
    ]);
    const fast = await analyseDocument(file);
    assert.equal(fast.fallback, true);
    assert.ok(
      fast.warnings.some((w) => /needs a password/.test(w)),
      fast.warnings.join('; '),
    );
    const counted = await countPages(file, { ghostscript: { timeoutMs: 15_000 } });
    assert.equal(counted.fallback, true, "nothing could count it: the printer's unknownPageCount rule decides");
    assert.notEqual(counted.method, 'ghostscript');
  });
});
