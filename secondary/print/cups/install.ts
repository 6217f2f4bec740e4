/**
 * `quotient install-cups-backend`: writes the backend shim (deploy/cups/quotient) into CUPS's
 * backend directory with this installation's node and Quotient paths filled in, owned by root
 * and mode 0700 (CUPS runs such a backend as root, which lets it reach the secondary's socket).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';

/** The shim template, relative to the Quotient directory. */
export const SHIM_TEMPLATE = 'deploy/cups/quotient';

/**
 * The Quotient checkout or installation this code runs from: the nearest directory above this
 * file that holds the shim template. Not the nearest package.json: the build copies package.json
 * into dist/ (main.ts imports it), so that would stop at dist/, which has no deploy/. The same
 * answer from the source (secondary/print/cups/), a build (dist/secondary/print/cups/) and an
 * npm install -g (<prefix>/lib/node_modules/quotient/dist/...).
 */
export function quotientHome(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, SHIM_TEMPLATE)) && fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`cannot find ${SHIM_TEMPLATE} in any directory above ${from}; is this a complete Quotient installation?`);
  }
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The shim's text with the settings filled in. */
export function backendShim(opts: { node: string; home: string; run: 'auto' | 'source' }): string {
  const template = fs.readFileSync(path.join(opts.home, SHIM_TEMPLATE), 'utf8');
  return template
    .replace(/^NODE=.*$/m, `NODE=${shellQuote(opts.node)}`)
    .replace(/^QUOTIENT_HOME=.*$/m, `QUOTIENT_HOME=${shellQuote(opts.home)}`)
    .replace(/^RUN='auto'/m, `RUN='${opts.run}'`);
}

export interface InstallOptions {
  backendDir: string;
  node?: string;
  home?: string;
  run?: 'auto' | 'source';
  /** File mode; 0700 makes CUPS run it as root (0755 would run it as lp). */
  mode?: number;
}

/** Writes `<backendDir>/quotient` atomically and returns its path. */
export function installCupsBackend(opts: InstallOptions): string {
  const home = opts.home ?? quotientHome();
  const target = path.join(opts.backendDir, 'quotient');
  const temp = `${target}.tmp-${process.pid}`;
  fs.writeFileSync(temp, backendShim({ node: opts.node ?? process.execPath, home, run: opts.run ?? 'auto' }), { mode: opts.mode ?? 0o700 });
  fs.chmodSync(temp, opts.mode ?? 0o700); // not subject to the umask
  fs.renameSync(temp, target);
  return target;
}

export function installCupsBackendCommand(): Command {
  return new Command('install-cups-backend')
    .description('install the Quotient CUPS backend wrapper (device URIs quotient:<real uri>)')
    .option('--backend-dir <dir>', "CUPS's backend directory", '/usr/lib/cups/backend')
    .option('--from-source', 'always run the TypeScript source through tsx (a development checkout)')
    .action((opts: { backendDir: string; fromSource?: boolean }) => {
      const target = installCupsBackend({ backendDir: opts.backendDir, run: opts.fromSource ? 'source' : 'auto' });
      console.log(
        `Installed ${target} (mode 0700). Point a queue at it: lpadmin -p QUEUE -v 'quotient:socket://printer:9100' -o printer-error-policy=abort-job`,
      );
    });
}
