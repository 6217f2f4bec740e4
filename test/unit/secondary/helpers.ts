/**
 * Shared helpers for the secondary's tests: temporary data directories removed afterwards, a
 * silent logger, and a tiny tmpfs (Linux, root only) for genuinely full or read-only disks.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger, type Logger } from '../../../common/logger';

export const silentLogger: Logger = createLogger('test-secondary', process.env.QUOTIENT_TEST_LOG ?? 'silent');

/** A fresh directory under the system temp dir; short, so socket paths stay under 107 bytes. */
export function tempDir(prefix = 'qsec-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Mounts a tmpfs of `sizeKb` at a new directory, or returns undefined when this machine cannot (not root, not Linux). */
export function mountTinyTmpfs(sizeKb: number): string | undefined {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return undefined;
  const dir = tempDir('qsec-tmpfs-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k`, 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    removeDir(dir);
    return undefined;
  }
}

export function remountReadOnly(dir: string): void {
  execFileSync('mount', ['-o', 'remount,ro', dir], { stdio: 'ignore' });
}

export function unmount(dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'ignore' });
  } finally {
    removeDir(dir);
  }
}
