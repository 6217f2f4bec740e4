/**
 * Page-analysis bench (target: a 1,000-page PDF or PostScript file counted in under 100 ms).
 * Makes the documents once with ghostscript (and qpdf, for the encrypted ones) in a temp
 * directory, then times analyseDocument() on each (median of several runs after a warm-up) beside
 * a plain read of the same file, so the ratio shows what the parsing costs over the I/O. The last
 * row times the Ghostscript fallback (countPages() on PostScript that loops over showpage), which
 * the 100 ms target does not cover. Speed is printed, not asserted (PASS/MISS is information);
 * the run fails only when a page count is wrong.
 * Standalone: `npx tsx bench/page-analysis.bench.ts [--runs N]`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { analyseDocument, countPages, type DocumentAnalysis } from '../secondary/print/analysis';

const TARGET_MS = 100;
const PAGES = 1000;

export interface PageAnalysisRow {
  name: string;
  bytes: number;
  pages: number;
  method: string;
  medianMs: number;
  readMs: number;
  /** Whether the target applies: the Ghostscript fallback is not the fast path. */
  target: boolean;
  pass: boolean;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** A PostScript program of `pages` pages, each with a little text and a top-level showpage. */
function program(pages: number): string {
  const lines = ['%!PS', '/Helvetica findfont 18 scalefont setfont'];
  for (let p = 1; p <= pages; p++) lines.push(`72 720 moveto (Page ${p} of a long report) show 72 700 moveto (Quotient bench) show showpage`);
  return lines.join('\n') + '\n';
}

/** One page holding an image of about `bytes` bytes of ASCII85 data read with currentfile (scanner throughput). */
function imageProgram(bytes: number): string {
  const alphabet = '!"#$&\'*+,-.0123456789:;=?@ABCDEFGHIJKLMNOPQRSTUVWXYZ^_`abcdefghijklmnopqrstu';
  let x = 1;
  const line = (): string => {
    let l = '';
    for (let j = 0; j < 64; j++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      l += alphabet[x % alphabet.length] ?? 'a';
    }
    return l;
  };
  const lines = Array.from({ length: 4096 }, line);
  const body: string[] = [];
  for (let n = 0; n < Math.ceil(bytes / 65); n++) body.push(lines[n % lines.length] ?? '');
  return [
    '%!PS-Adobe-3.0',
    '%%Pages: 1',
    '%%Page: 1 1',
    '/DeviceRGB setcolorspace',
    '<< /ImageType 1 /Width 2000 /Height 2000 /BitsPerComponent 8 /Decode [0 1 0 1 0 1] /ImageMatrix [2000 0 0 -2000 0 2000]',
    '   /DataSource currentfile /ASCII85Decode filter >> image',
    ...body,
    '~>',
    'showpage',
    '%%EOF',
    '',
  ].join('\n');
}

/** The same loop of pages in one procedure, no DSC: only running it counts it. */
function loopedProgram(pages: number): string {
  return `%!PS\n/Helvetica findfont 18 scalefont setfont\n1 1 ${pages} { 72 720 moveto (Page of a looped report) show showpage pop } for\n`;
}

function qpdfAvailable(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v qpdf'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

function encrypt(dir: string, source: string, out: string, args: string[]): string {
  const path = join(dir, out);
  execFileSync('qpdf', [...args, '--object-streams=generate', source, path], { stdio: 'pipe' });
  return path;
}

function ghostscript(dir: string, device: string, out: string, input: string): string {
  const path = join(dir, out);
  execFileSync('gs', ['-q', '-dBATCH', '-dNOPAUSE', '-dSAFER', `-sDEVICE=${device}`, '-sPAPERSIZE=a4', '-o', path, input], { stdio: 'pipe' });
  return path;
}

export async function benchPageAnalysis(runs = 15): Promise<PageAnalysisRow[]> {
  try {
    execFileSync('sh', ['-c', 'command -v gs'], { stdio: 'pipe' });
  } catch {
    throw new Error("the page-analysis bench needs ghostscript ('gs'): apt-get install ghostscript");
  }
  const dir = mkdtempSync(join(tmpdir(), 'quotient-page-bench-'));
  try {
    const input = join(dir, 'input.ps');
    writeFileSync(input, program(PAGES));
    const image = join(dir, 'image.ps');
    writeFileSync(image, imageProgram(20 * 1024 * 1024));
    const looped = join(dir, 'looped.ps');
    writeFileSync(looped, loopedProgram(PAGES));
    const pdf = ghostscript(dir, 'pdfwrite', 'doc.pdf', input);
    const fast = (path: string): Promise<DocumentAnalysis> => analyseDocument(path);
    type Doc = [name: string, path: string, pages: number, count: (path: string) => Promise<DocumentAnalysis>, runs: number];
    const docs: Doc[] = [
      [`PDF, ${PAGES} pages (gs pdfwrite)`, pdf, PAGES, fast, runs],
      ...(qpdfAvailable()
        ? ([
            [
              `PDF, ${PAGES} pages, AES-256 + object streams (qpdf)`,
              encrypt(dir, pdf, 'aes256.pdf', ['--encrypt', '', 'owner', '256', '--']),
              PAGES,
              fast,
              runs,
            ],
            [
              `PDF, ${PAGES} pages, RC4 128 + object streams (qpdf)`,
              encrypt(dir, pdf, 'rc4.pdf', ['--allow-weak-crypto', '--encrypt', '', 'owner', '128', '--use-aes=n', '--']),
              PAGES,
              fast,
              runs,
            ],
          ] satisfies Doc[])
        : []),
      [`PostScript, ${PAGES} pages (gs ps2write, DSC)`, ghostscript(dir, 'ps2write', 'doc.ps', input), PAGES, fast, runs],
      [`PostScript, ${PAGES} pages (no DSC, showpage scan)`, input, PAGES, fast, runs],
      ['PostScript, 1 page, 20 MiB ASCII85 image', image, 1, fast, runs],
      [`PostScript, ${PAGES} pages looped (Ghostscript fallback)`, looped, PAGES, (path) => countPages(path), Math.min(runs, 3)],
    ];
    const rows: PageAnalysisRow[] = [];
    for (const [name, path, expected, count, docRuns] of docs) {
      let last = await count(path);
      const times: number[] = [];
      const reads: number[] = [];
      for (let i = 0; i < docRuns + 2; i++) {
        const t0 = performance.now();
        readFileSync(path);
        const t1 = performance.now();
        last = await count(path);
        const t2 = performance.now();
        if (i >= 2) {
          reads.push(t1 - t0);
          times.push(t2 - t1);
        }
      }
      if (last.pages !== expected) throw new Error(`${name}: counted ${last.pages} pages, expected ${expected} (${last.method})`);
      const medianMs = median(times);
      const target = count === fast;
      rows.push({
        name,
        bytes: statSync(path).size,
        pages: last.pages,
        method: last.method,
        medianMs,
        readMs: median(reads),
        target,
        pass: !target || medianMs < TARGET_MS,
      });
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printPageAnalysis(rows: PageAnalysisRow[]): void {
  console.log(`\npage analysis (target: under ${TARGET_MS} ms per document, median)`);
  for (const r of rows) {
    const ratio = r.readMs > 0 ? (r.medianMs / r.readMs).toFixed(0) : '∞';
    console.log(
      `  ${r.name.padEnd(56)} ${(r.bytes / 1024).toFixed(0).padStart(6)} KiB  ${String(r.pages).padStart(4)} pages  ${r.medianMs.toFixed(1).padStart(6)} ms` +
        `  (plain read ${r.readMs.toFixed(2)} ms, ×${ratio})  ${r.method}  ${r.target ? (r.pass ? 'PASS' : 'MISS') : '(no target)'}`,
    );
  }
}

if (require.main === module) {
  const i = process.argv.indexOf('--runs');
  const runs = i >= 0 ? Number(process.argv[i + 1]) : 15;
  benchPageAnalysis(Number.isInteger(runs) && runs > 0 ? runs : 15)
    .then(printPageAnalysis)
    .catch((err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exitCode = 1;
    });
}
