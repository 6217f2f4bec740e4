/**
 * The counting chain on PostScript the fast scan cannot count for certain, against real
 * Ghostscript: hand-written programs without DSC that call showpage from loops and from their
 * own procedures (each charged one page before), a forged DSC header over a loop, and showpage
 * under another name; what drivers write (ps2write, groff -Tps) stays on the fast path. Then
 * the limits: an endless program is killed within its time limit, and one that allocates without
 * end is stopped by its memory cap; both leave the pages unknown (the printer's rule decides).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyseDocument, countPages } from '../../../secondary/print/analysis';
import { countWithGhostscript } from '../../../secondary/print/analysis/ghostscript';
import { fixtureDir, gs, requireTool } from '../../unit/print/documents';

/** A hand-written PostScript file in the run's fixture directory. */
function program(name: string, text: string): string {
  const file = join(fixtureDir(), name);
  writeFileSync(file, text);
  return file;
}

const FONT = '/Helvetica findfont 24 scalefont setfont\n';

/** Processes whose command line names `file` (a Ghostscript left running after its deadline would). */
function processesNaming(file: string): number[] {
  const found: number[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').includes(file)) found.push(Number(pid));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

describe('counting PostScript the fast scan is not sure of, with Ghostscript', function () {
  this.timeout(60_000);
  before(() => requireTool('gs', 'ghostscript'));

  const cases: { name: string; text: string; pages: number }[] = [
    { name: 'showpage in a for loop, no DSC', text: `%!PS\n${FONT}1 1 5 { 72 720 moveto (Page) show showpage } for\n`, pages: 5 },
    {
      name: 'showpage in a repeat loop after a top-level showpage, no DSC',
      text: `%!PS\n${FONT}72 720 moveto (one) show showpage\n4 { 72 720 moveto (more) show showpage } repeat\n`,
      pages: 5,
    },
    {
      name: 'showpage in its own procedure, called five times',
      text: `%!PS\n${FONT}/page { 72 720 moveto show showpage } def\n(a) page (b) page (c) page (d) page (e) page\n`,
      pages: 5,
    },
    {
      name: 'a nested loop inside a procedure',
      text: `%!PS\n${FONT}/sheet { 3 { 72 720 moveto (x) show showpage } repeat } def\n2 { sheet } repeat\n`,
      pages: 6,
    },
    {
      name: 'showpage under another name (/eject /showpage load def)',
      text: `%!PS\n${FONT}/eject /showpage load def\n72 720 moveto (1) show eject 72 720 moveto (2) show eject 72 720 moveto (3) show eject\n`,
      pages: 3,
    },
    {
      name: 'a forged DSC header (%%Pages: 1) over a loop of five',
      text: `%!PS-Adobe-3.0\n%%Pages: 1\n%%EndComments\n%%Page: 1 1\n${FONT}1 1 5 { 72 720 moveto (Page) show showpage } for\n%%EOF\n`,
      pages: 5,
    },
  ];
  for (const [i, c] of cases.entries()) {
    it(`charges ${c.pages} pages for ${c.name}: the scan says it is not sure, Ghostscript counts`, async () => {
      const file = program(`gs-case-${i}.ps`, c.text);
      const fast = await analyseDocument(file);
      assert.equal(fast.fallback, true, `the scan must not claim ${fast.pages} pages (${fast.method}) as certain`);
      const r = await countPages(file);
      assert.deepEqual([r.pages, r.method, r.fallback], [c.pages, 'ghostscript', false], r.warnings.join('; '));
    });
  }

  it('keeps DSC documents from ps2write and groff -Tps on the fast path, counted exactly without running them', async () => {
    const ps2write = gs('gs-ps2write-9.ps', `%!PS\n${FONT}1 1 9 { 72 720 moveto (Page) show showpage } for\n`, 'ps2write');
    requireTool('groff', 'groff');
    const groff = join(fixtureDir(), 'groff-4.ps');
    if (!existsSync(groff))
      writeFileSync(groff, execFileSync('groff', ['-ms', '-Tps'], { input: ['a', 'b', 'c', 'd'].map((w) => `.LP\n${w}\n`).join('.bp\n') }));
    for (const [file, pages] of [
      [ps2write, 9],
      [groff, 4],
    ] as const) {
      const r = await countPages(file, { ghostscript: false });
      assert.deepEqual([r.pages, r.method, r.fallback], [pages, 'dsc-pages', false], `${file}: ${r.warnings.join('; ')}`);
    }
  });

  it('kills a program that never ends at its time limit, and leaves the pages unknown (never 1)', async () => {
    const file = program('gs-endless.ps', `%!PS\n${FONT}1 1 3 { 72 720 moveto (x) show showpage } for\n{ 1 pop } loop\n`);
    const scratch = mkdtempSync(join(fixtureDir(), 'gs-scratch-'));
    const started = Date.now();
    const r = await countPages(file, { ghostscript: { timeoutMs: 1500, tmpDir: scratch } });
    const took = Date.now() - started;
    assert.equal(r.fallback, true);
    assert.notEqual(r.method, 'ghostscript');
    assert.ok(
      r.warnings.some((w) => /did not finish within 1500 ms/.test(w)),
      r.warnings.join('; '),
    );
    assert.ok(took < 1500 + 3000, `took ${took} ms`);
    assert.deepEqual(processesNaming(file), [], 'Ghostscript was killed');
    assert.deepEqual(readdirSync(scratch), [], 'its page directory is removed');
  });

  it('stops a program at its memory cap: 190 MB of strings fail under a 128 MiB cap and print under the default 1 GiB', async () => {
    const file = program('gs-hungry.ps', `%!PS\n[ 1 1 12 { pop 16000000 string } for ] pop showpage\n`);
    const capped = await countWithGhostscript(file, { memoryBytes: 128 * 1024 * 1024, timeoutMs: 20_000 });
    assert.equal(capped.ok, false);
    assert.equal(capped.ok === false && capped.timedOut, false, 'stopped by the memory cap, not the clock');
    const roomy = await countWithGhostscript(file, { timeoutMs: 20_000 });
    assert.deepEqual(roomy.ok && roomy.pages, 1, JSON.stringify(roomy));
  });

  it('runs Ghostscript as another user when asked (the backend, as root, runs it as lp): it reads only what that user may', async function () {
    const lp = /^lp:[^:]*:(\d+):(\d+):/m.exec(readFileSync('/etc/passwd', 'utf8'));
    if (process.getuid?.() !== 0 || !lp) return this.skip(); // needs root and CUPS's lp user
    const runAs = { uid: Number(lp[1]), gid: Number(lp[2]) };
    const text = `%!PS\n1 1 2 { pop showpage } for\n`;
    const dir = mkdtempSync(join(fixtureDir(), 'gs-as-lp-'));
    chmodSync(fixtureDir(), 0o755);
    chmodSync(dir, 0o755);
    const open = join(dir, 'open.ps');
    writeFileSync(open, text, { mode: 0o644 });
    const closed = join(dir, 'root-only.ps');
    writeFileSync(closed, text, { mode: 0o600 });
    assert.deepEqual(await countWithGhostscript(open, { runAs }).then((r) => r.ok && r.pages), 2);
    const refused = await countWithGhostscript(closed, { runAs });
    assert.equal(refused.ok, false, 'a file only root may read is not read: gs is not root');
  });

  it('counts the pages the device emits, whatever the document prints or does to /EndPage', async () => {
    const noisy = program(
      'gs-noisy.ps',
      `%!PS\n${FONT}<< /EndPage { exch pop 2 ne } >> setpagedevice\n1 1 4 { pop (page\\n) print (%stderr) (w) file (BoundingBox\\n) writestring 72 720 moveto (x) show showpage } for\n`,
    );
    const r = await countWithGhostscript(noisy);
    assert.deepEqual(r.ok && r.pages, 4, JSON.stringify(r));
    // An /EndPage that refuses every page prints nothing on a printer either: no count, the rule decides.
    const blank = program('gs-refuses.ps', `%!PS\n${FONT}<< /EndPage { pop pop false } >> setpagedevice\n1 1 4 { pop showpage } for\n`);
    const none = await countWithGhostscript(blank);
    assert.deepEqual(none.ok === false && none.reason, 'Ghostscript printed no page');
  });
});
