import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../../utils/processes';

function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => fs.statSync(path.join(dir, f)).isFile())
    .sort();
}

describe('protos/generated', () => {
  it('is exactly what `npm run protos` makes from the .proto files (regenerate, never edit)', function () {
    this.timeout(60000);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'quotient-protos-'));
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const script = (pkg.scripts.protos ?? '').replace('--outDir=protos/generated', `--outDir=${out}`);
    const [bin, ...args] = script.split(' ');
    execFileSync(path.join(ROOT, 'node_modules/.bin', bin ?? ''), args, { cwd: ROOT, stdio: 'ignore' });
    const committed = path.join(ROOT, 'protos/generated');
    assert.deepEqual(filesUnder(out), filesUnder(committed));
    for (const f of filesUnder(out)) {
      assert.equal(
        fs.readFileSync(path.join(committed, f), 'utf8'),
        fs.readFileSync(path.join(out, f), 'utf8'),
        `protos/generated/${f} is stale: run npm run protos`,
      );
    }
  });
});
