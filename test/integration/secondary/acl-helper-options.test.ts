/**
 * The Squid ACL helper as Squid starts it, with a mistyped option: it must refuse to run (Squid
 * logs the message and the helper's exit), never fall back to answering OK to everyone.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { USAGE } from '../../../secondary/proxy/acl-helper';

describe('quotient-acl-helper started with a mistyped option', () => {
  it('exits with status 2 and says what is wrong on stderr, answering nothing', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.resolve('secondary/proxy/acl-helper.ts'), '--when-down=alow'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (out += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (err += t));
    child.stdin.end('0 alice -\n');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 2);
    assert.equal(out, '');
    assert.equal(err, `quotient-acl-helper: --when-down must be allow or deny, got "alow"\n${USAGE}\n`);
  });
});
