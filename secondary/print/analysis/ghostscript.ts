/**
 * Counting pages by running the document in Ghostscript (installed with CUPS's filters), for the
 * PDF and PostScript the fast analysers cannot count for certain (a program that loops over
 * showpage, a broken PDF). gs runs with -dSAFER and renders at 10 dpi to the 1-bit `bit` device,
 * one output file per page in a private directory: the pages counted are the pages the device
 * emitted, exactly what a printer's interpreter would print. A document can neither hide pages
 * from the count (replacing /EndPage, printing to stdout or stderr) nor move the output
 * elsewhere (-dSAFER locks OutputFile). Bounded: a wall-clock timeout (SIGKILL), and through
 * prlimit an address-space cap, a CPU-time cap and a file-size cap. Only an exit 0 with at least
 * one page is a count. docs/page-analysis.md, "Ghostscript".
 */
import { spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const GS_DEFAULTS = {
  timeoutMs: 20_000,
  /** Address space for gs (RLIMIT_AS): a 10 dpi page is about 1 KiB of bitmap; 1 GiB is ample. */
  memoryBytes: 1024 * 1024 * 1024,
  /** Largest file gs may write (RLIMIT_FSIZE): one page at 10 dpi, or its band list. */
  fileBytes: 64 * 1024 * 1024,
};

export type GhostscriptCount = { ok: true; pages: number; ms: number } | { ok: false; reason: string; timedOut: boolean; ms: number };

export interface GhostscriptOptions {
  timeoutMs?: number;
  memoryBytes?: number;
  /** The gs executable (default: `gs` on PATH). */
  gs?: string;
  /** Where the per-run page directory is made (default: TMPDIR, which CUPS sets for backends). */
  tmpDir?: string;
  /**
   * Run gs as this user (the CUPS backend, running as root, passes CUPS's `lp`, as CUPS runs its
   * own filters): a hostile document meets an interpreter without root's rights even if it finds
   * a way out of -dSAFER. The document must be readable by that user.
   */
  runAs?: { uid: number; gid: number };
}

const PRLIMIT = ['/usr/bin/prlimit', '/bin/prlimit'].find((p) => existsSync(p));

/** Runs `file` in Ghostscript and counts the pages it ejects. Never throws. */
export function countWithGhostscript(file: string, opts: GhostscriptOptions = {}): Promise<GhostscriptCount> {
  const timeoutMs = opts.timeoutMs !== undefined && opts.timeoutMs > 0 ? opts.timeoutMs : GS_DEFAULTS.timeoutMs;
  const memoryBytes = opts.memoryBytes !== undefined && opts.memoryBytes > 0 ? opts.memoryBytes : GS_DEFAULTS.memoryBytes;
  const gs = opts.gs ?? 'gs';
  let pageDir: string;
  try {
    pageDir = mkdtempSync(join(opts.tmpDir ?? tmpdir(), 'quotient-gs-'));
    if (opts.runAs) chownSync(pageDir, opts.runAs.uid, opts.runAs.gid);
  } catch (err) {
    return Promise.resolve({ ok: false, reason: `cannot make a directory for Ghostscript: ${(err as Error).message}`, timedOut: false, ms: 0 });
  }
  const gsArgs = [
    '-q',
    '-dSAFER',
    '-dBATCH',
    '-dNOPAUSE',
    '-dNOPROMPT',
    '-sDEVICE=bit',
    '-r10',
    `-sOutputFile=${join(pageDir, 'p%06d')}`,
    // `--`: the document's name is never taken for an option, whatever it is called.
    '--',
    file,
  ];
  const [command, args] =
    PRLIMIT === undefined
      ? [gs, gsArgs]
      : [
          PRLIMIT,
          [`--as=${Math.floor(memoryBytes)}`, `--cpu=${Math.max(1, Math.ceil(timeoutMs / 1000))}`, `--fsize=${GS_DEFAULTS.fileBytes}`, '--', gs, ...gsArgs],
        ];
  const started = Date.now();
  return new Promise((resolve) => {
    let stderr = '';
    let timedOut = false;
    let settled = false;
    const done = (r: GhostscriptCount): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      rmSync(pageDir, { recursive: true, force: true });
      resolve(r);
    };
    let child: ReturnType<typeof spawn>;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    try {
      child = spawn(command, args, {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C' },
        ...(opts.runAs ?? {}),
      });
    } catch (err) {
      done({ ok: false, reason: `cannot run ${gs}: ${(err as Error).message}`, timedOut: false, ms: 0 });
      return;
    }
    child.stderr?.setEncoding('latin1');
    child.stderr?.on('data', (text: string) => {
      if (stderr.length < 2000) stderr += text;
    });
    child.on('error', (err) => done({ ok: false, reason: `cannot run ${gs}: ${err.message}`, timedOut: false, ms: Date.now() - started }));
    child.on('close', (code, signal) => {
      const ms = Date.now() - started;
      if (timedOut) return done({ ok: false, reason: `Ghostscript did not finish within ${timeoutMs} ms`, timedOut: true, ms });
      if (code !== 0) {
        const why = signal ? `was killed by ${signal} (memory or CPU limit)` : `exited with ${code}`;
        const detail = stderr.replace(/\s+/g, ' ').trim().slice(0, 200);
        return done({ ok: false, reason: `Ghostscript ${why}${detail ? `: ${detail}` : ''}`, timedOut: false, ms });
      }
      let pages = 0;
      try {
        pages = readdirSync(pageDir).length;
      } catch {
        // counted as no page
      }
      if (pages === 0) return done({ ok: false, reason: 'Ghostscript printed no page', timedOut: false, ms });
      done({ ok: true, pages, ms });
    });
  });
}
