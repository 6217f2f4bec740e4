/**
 * The in-process runner the CLI tests use (test/utils/cli.ts) answers as the `quotient` process
 * would, and leaves the test process as it found it.
 */
import assert from 'node:assert/strict';
import { version } from '../../../package.json';
import { runCliInProcess } from '../../utils/cli';

describe('runCliInProcess', () => {
  it("gives commander's own output and exit codes: --version 0, an unknown command 1 with the help", async () => {
    assert.deepEqual(await runCliInProcess(['--version']), { code: 0, stdout: `${version}\n`, stderr: '' });
    const unknown = await runCliInProcess(['nope']);
    assert.deepEqual([unknown.code, unknown.stdout], [1, '']);
    assert.match(unknown.stderr, /^error: unknown command 'nope'\n\nUsage: quotient \[options\] \[command\]\n/);
  });

  it('sets the environment for each run only, one run at a time, and puts back the exit code', async () => {
    assert.equal(process.env.QUOTIENT_DATABASE_URL, undefined);
    const exitCodeBefore = process.exitCode;
    const [first, second] = await Promise.all(
      ['postgres://first/db', 'oracle://second/db'].map((url) => runCliInProcess(['verify'], { QUOTIENT_DATABASE_URL: url })),
    );
    assert.deepEqual(first, {
      code: 1,
      stdout: '',
      stderr: 'error: unsupported database URL "postgres://first/db": use sqlite:PATH or mysql://user:password@host:port/database\n',
    });
    assert.deepEqual(second, {
      code: 1,
      stdout: '',
      stderr: 'error: unsupported database URL "oracle://second/db": use sqlite:PATH or mysql://user:password@host:port/database\n',
    });
    assert.equal(process.env.QUOTIENT_DATABASE_URL, undefined);
    assert.equal(process.exitCode, exitCodeBefore);
  });
});
