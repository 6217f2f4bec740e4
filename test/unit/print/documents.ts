/**
 * Real print documents for the page-analysis tests, made once per run in a temp directory with
 * the tools CUPS itself uses (ghostscript, qpdf). A missing tool fails loudly: CI installs them.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let dir: string | null = null;

/** The per-run fixture directory (removed at exit). */
export function fixtureDir(): string {
  if (dir === null) {
    const d = mkdtempSync(join(tmpdir(), 'quotient-page-analysis-'));
    dir = d;
    process.on('exit', () => rmSync(d, { recursive: true, force: true }));
  }
  return dir;
}

/** Fails with a clear message when a tool the tests need is not installed. */
export function requireTool(tool: string, pkg: string): void {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'pipe' });
  } catch {
    throw new Error(`page-analysis tests need '${tool}' (Debian package ${pkg}); install it, e.g. apt-get install ${pkg}`);
  }
}

/**
 * A PostScript program of `pages` pages, each ending in a top-level showpage (no loops), with
 * optional colour text and DSC comments.
 */
export function psProgram(pages: number, opts: { dsc?: boolean; dscPages?: number; colour?: boolean; prolog?: string } = {}): string {
  const out: string[] = ['%!PS-Adobe-3.0'];
  if (opts.dsc) out.push(`%%Pages: ${opts.dscPages ?? pages}`, '%%EndComments');
  out.push('/Helvetica findfont 24 scalefont setfont');
  if (opts.prolog !== undefined) out.push(opts.prolog);
  for (let p = 1; p <= pages; p++) {
    if (opts.dsc) out.push(`%%Page: ${p} ${p}`);
    if (opts.colour) out.push('1 0 0 setrgbcolor');
    out.push(`72 720 moveto (Page ${p}) show showpage`);
  }
  if (opts.dsc) out.push('%%EOF');
  return out.join('\n') + '\n';
}

/** Runs ghostscript on a PostScript program; the output file is cached by name for the run. */
export function gs(name: string, program: string, device: string, args: string[] = []): string {
  requireTool('gs', 'ghostscript');
  const out = join(fixtureDir(), name);
  if (existsSync(out)) return out;
  const input = join(fixtureDir(), `${name}.input.ps`);
  writeFileSync(input, program);
  execFileSync('gs', ['-q', '-dBATCH', '-dNOPAUSE', '-dSAFER', `-sDEVICE=${device}`, ...args, '-o', out, input], { stdio: 'pipe' });
  return out;
}

/** A PDF of `pages` pages made by ghostscript's pdfwrite. */
export function pdf(pages: number, paper = 'a4'): string {
  return gs(`p${pages}-${paper}.pdf`, psProgram(pages), 'pdfwrite', [`-sPAPERSIZE=${paper}`]);
}

/** qpdf with arguments, output cached by name. */
export function qpdf(name: string, args: string[]): string {
  requireTool('qpdf', 'qpdf');
  const out = join(fixtureDir(), name);
  if (existsSync(out)) return out;
  try {
    execFileSync('qpdf', [...args, out], { stdio: 'pipe' });
  } catch (err) {
    // Exit code 3 means "succeeded with warnings".
    if ((err as { status?: number }).status !== 3) throw err;
  }
  return out;
}

/** The page count poppler's pdfinfo reports, to cross-check ours. */
export function pdfinfoPages(path: string): number {
  requireTool('pdfinfo', 'poppler-utils');
  const out = execFileSync('pdfinfo', [path], { encoding: 'utf8', stdio: 'pipe' });
  const m = /^Pages:\s+(\d+)/m.exec(out);
  if (!m) throw new Error(`pdfinfo gave no page count for ${path}`);
  return Number(m[1]);
}

/**
 * Appends an incremental update to a classic-xref PDF: a new page-tree root whose /Kids keep the
 * first `keep` pages and add `add` new blank pages, a new xref section and a trailer with /Prev.
 */
export function incrementalUpdate(src: string, name: string, keep: number, add: number): string {
  const out = join(fixtureDir(), name);
  const buf = readFileSync(src);
  const text = buf.toString('latin1');
  const pagesM = /(\d+) 0 obj\s*<<\s*\/Type\s*\/Pages\s*\/Kids\s*\[([^\]]*)\]/.exec(text);
  const trailerM = /trailer\s*<<\s*\/Size (\d+) \/Root (\d+) 0 R/.exec(text);
  const startM = /startxref\s+(\d+)\s+%%EOF\s*$/.exec(text);
  if (!pagesM || !trailerM || !startM) throw new Error(`${src} is not a classic-xref pdfwrite PDF`);
  const pagesNum = Number(pagesM[1]);
  const kids = (pagesM[2] ?? '')
    .trim()
    .split(/\s+R\s*/)
    .filter((k) => k !== '')
    .map((k) => `${k} R`);
  let size = Number(trailerM[1]);
  const objects: [number, string][] = [];
  const newKids = kids.slice(0, keep);
  for (let i = 0; i < add; i++) {
    const n = size++;
    objects.push([n, `<< /Type /Page /Parent ${pagesNum} 0 R /MediaBox [0 0 595 842] >>`]);
    newKids.push(`${n} 0 R`);
  }
  objects.push([pagesNum, `<< /Type /Pages /Kids [${newKids.join(' ')}] /Count ${newKids.length} >>`]);
  let body = '\n';
  let offset = buf.length + 1;
  const offsets: [number, number][] = [];
  for (const [n, dict] of objects) {
    const obj = `${n} 0 obj\n${dict}\nendobj\n`;
    offsets.push([n, offset]);
    body += obj;
    offset += obj.length;
  }
  const xrefAt = offset;
  let xref = 'xref\n';
  for (const [n, off] of offsets.sort((a, b) => a[0] - b[0])) xref += `${n} 1\n${String(off).padStart(10, '0')} 00000 n \n`;
  xref += `trailer\n<< /Size ${size} /Root ${trailerM[2]} 0 R /Prev ${startM[1]} >>\nstartxref\n${xrefAt}\n%%EOF\n`;
  writeFileSync(out, Buffer.concat([buf, Buffer.from(body + xref, 'latin1')]));
  return out;
}

/** A minimal hand-written PDF from object bodies (1-based), with a correct classic xref. */
export function handPdf(objects: string[], root = 1, extraTrailer = ''): Buffer {
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xrefAt = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) out += `${String(o).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root ${root} 0 R ${extraTrailer}>>\nstartxref\n${xrefAt}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

const PSTOPS = '/usr/lib/cups/filter/pstops';

/** Runs CUPS's pstops filter (cups-filters) as a filtered queue would: `copies` copies of `input`. */
export function pstops(name: string, input: string, copies: number): string {
  if (!existsSync(PSTOPS)) throw new Error(`page-analysis tests need ${PSTOPS} (Debian package cups-filters)`);
  const out = join(fixtureDir(), name);
  if (existsSync(out)) return out;
  const data = execFileSync(PSTOPS, ['1', 'alice', 'title', String(copies), '', input], { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  writeFileSync(out, data);
  return out;
}

/**
 * A hostile PDF whose page tree is a DAG: `depth` /Pages nodes, each naming the next `fanOut`
 * times in its /Kids, over one page (or, with `leaf`, any object body): fanOut^depth leaves
 * from a file of a few kilobytes.
 */
export function dagPdf(fanOut: number, depth: number, leaf = '<< /Type /Page /MediaBox [0 0 595 842] >>'): Buffer {
  const objects = ['<< /Type /Catalog /Pages 2 0 R >>'];
  for (let level = 0; level < depth; level++) {
    const child = `${level + 3} 0 R`;
    const count = BigInt(fanOut) ** BigInt(depth - level);
    objects.push(`<< /Type /Pages /Kids [${Array.from({ length: fanOut }, () => child).join(' ')}] /Count ${count} >>`);
  }
  objects.push(leaf);
  return handPdf(objects);
}
