/**
 * Counting pages by running the document in Ghostscript (installed with CUPS's filters), for the
 * PDF and PostScript the fast analysers cannot count for certain: a program that loops over
 * showpage, an encrypted PDF whose password is not empty is NOT among them (gs cannot open it
 * either). gs runs with -dSAFER on the null device; an /EndPage procedure prints a marker with a
 * per-run nonce for every page the device ejects (reason 0 showpage, 1 copypage; not 2, the
 * device going away), so a document cannot forge a count by printing text. Bounded: a wall-clock
 * timeout (SIGKILL), and through prlimit an address-space cap and a CPU-time cap.
 * docs/page-analysis.md, "Ghostscript".
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';

export const GS_DEFAULTS = {
  timeoutMs: 20_000,
  /** Address space for gs (RLIMIT_AS): the null device keeps no page bitmap; 1 GiB is ample. */
  memoryBytes: 1024 * 1024 * 1024,
};

export type GhostscriptCount = { ok: true; pages: number; ms: number } | { ok: false; reason: string; timedOut: boolean; ms: number };

export interface GhostscriptOptions {
  timeoutMs?: number;
  memoryBytes?: number;
  /** The gs executable (default: `gs` on PATH). */
  gs?: string;
}

const PRLIMIT = ['/usr/bin/prlimit', '/bin/prlimit'].find((p) => existsSync(p));

/** Runs `file` in Ghostscript and counts the pages it ejects. Never throws. */
export function countWithGhostscript(file: string, opts: GhostscriptOptions = {}): Promise<GhostscriptCount> {
  const timeoutMs = opts.timeoutMs !== undefined && opts.timeoutMs > 0 ? opts.timeoutMs : GS_DEFAULTS.timeoutMs;
  const memoryBytes = opts.memoryBytes !== undefined && opts.memoryBytes > 0 ? opts.memoryBytes : GS_DEFAULTS.memoryBytes;
  const nonce = randomBytes(9).toString('hex');
  const marker = `QUOTIENT-PAGE-${nonce}`;
  const gsArgs = [
    '-q', '-dSAFER', '-dBATCH', '-dNOPAUSE', '-dNOPROMPT', '-sDEVICE=nullpage',
    '-c', `<< /EndPage { exch pop 2 ne dup { (${marker}\\n) print flush } if } >> setpagedevice`,
    // `--` : the document's name is never taken for an option, whatever it is called.
    '--', file,
  ];
  const gs = opts.gs ?? 'gs';
  const [command, args] = PRLIMIT === undefined
    ? [gs, gsArgs]
    : [PRLIMIT, [`--as=${Math.floor(memoryBytes)}`, `--cpu=${Math.max(1, Math.ceil(timeoutMs / 1000))}`, '--', gs, ...gsArgs]];
  const started = Date.now();
  return new Promise((resolve) => {
    let pages = 0;
    let partial = '';
    let stderr = '';
    let timedOut = false;
    let settled = false;
    const done = (r: GhostscriptCount): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C' } });
    } catch (err) {
      resolve({ ok: false, reason: `cannot run ${gs}: ${(err as Error).message}`, timedOut: false, ms: 0 });
      return;
    }
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout?.setEncoding('latin1');
    child.stdout?.on('data', (text: string) => {
      // Counted line by line as it comes; a document that prints megabytes is not kept.
      const lines = (partial + text).split('\n');
      partial = (lines.pop() ?? '').slice(-marker.length);
      for (const line of lines) if (line === marker) pages++;
    });
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
      if (pages === 0) return done({ ok: false, reason: 'Ghostscript printed no page', timedOut: false, ms });
      done({ ok: true, pages, ms });
    });
  });
}
