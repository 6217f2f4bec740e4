/**
 * `quotient install-cups-backend`: the shim it writes runs, answers CUPS's discovery, and is
 * installed root-only (0700) so CUPS runs it as root.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DISCOVERY_LINE } from '../../../secondary/print/cups/backend';
import { backendShim, installCupsBackend, quotientHome } from '../../../secondary/print/cups/install';
import { ROOT } from '../../utils/processes';

describe('install-cups-backend', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qinst-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('finds the Quotient directory it runs from', () => {
    assert.equal(quotientHome(), ROOT);
  });

  it('finds the package, not dist/, from a build: tsc copies package.json into dist/', () => {
    const pkg = path.join(dir, 'lib/node_modules/quotient');
    fs.mkdirSync(path.join(pkg, 'deploy/cups'), { recursive: true });
    fs.mkdirSync(path.join(pkg, 'dist/secondary/print/cups'), { recursive: true });
    fs.writeFileSync(path.join(pkg, 'package.json'), '{}');
    fs.writeFileSync(path.join(pkg, 'dist/package.json'), '{}');
    fs.writeFileSync(path.join(pkg, 'deploy/cups/quotient'), '#!/bin/sh\n');
    assert.equal(quotientHome(path.join(pkg, 'dist/secondary/print/cups')), pkg);
    assert.throws(() => quotientHome(path.join(dir, 'elsewhere')), /cannot find deploy\/cups\/quotient/);
  });

  it('fills in node and the Quotient directory, quoted for the shell', () => {
    const text = backendShim({ node: "/opt/node's/bin/node", home: ROOT, run: 'source' });
    assert.match(text, /^NODE='\/opt\/node'\\''s\/bin\/node'$/m);
    assert.ok(text.includes(`QUOTIENT_HOME='${ROOT}'`));
    assert.match(text, /^RUN='source'/m);
  });

  it('writes a mode 0700 shim that answers discovery', function () {
    this.timeout(20_000);
    const target = installCupsBackend({ backendDir: dir, home: ROOT, run: 'source' });
    assert.equal(fs.statSync(target).mode & 0o777, 0o700);
    assert.equal(execFileSync(target, [], { encoding: 'utf8' }), `${DISCOVERY_LINE}\n`);
  });
});
