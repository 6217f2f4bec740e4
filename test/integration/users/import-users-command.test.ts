/**
 * `quotient import-users` as an operator sees it, on every dialect: `line N: reason` on stderr,
 * the summary on stdout, and the exit status (0 only when every line was imported).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { importUsersCommand } from '../../../primary/cli/commands/import-users';
import { describeOnEachDatabase } from '../../utils/databases';
import { servicesFor } from '../../utils/fixtures';

interface Run {
  exitCode: number;
  stdout: string[];
  stderr: string[];
}

/** Runs the command in-process, capturing console output and the exit code it sets. */
async function run(args: string[]): Promise<Run> {
  const out: Run = { exitCode: 0, stdout: [], stderr: [] };
  const { log, error } = console;
  const write = process.stderr.write.bind(process.stderr);
  const exitCodeBefore = process.exitCode;
  process.exitCode = undefined;
  console.log = (...a: unknown[]) => void out.stdout.push(a.join(' '));
  console.error = (...a: unknown[]) => void out.stderr.push(a.join(' '));
  // The progress bar writes to stderr directly; keep it out of the test report.
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    await importUsersCommand().exitOverride().parseAsync(args, { from: 'user' });
    out.exitCode = Number(process.exitCode ?? 0);
  } finally {
    console.log = log;
    console.error = error;
    process.stderr.write = write;
    process.exitCode = exitCodeBefore;
  }
  return out;
}

describeOnEachDatabase('quotient import-users', (t) => {
  let n = 0;
  function csvFile(content: string): string {
    const file = path.join(t.dataDir, `cli-${++n}.csv`);
    fs.writeFileSync(file, content);
    return file;
  }
  const db = (): string[] => ['--database-url', t.url, '--data-dir', t.dataDir];

  beforeEach(async () => {
    await servicesFor(t.db).groups.create({ name: 'Staff', initialCredit: 300 });
  });

  it('prints each skipped line and the summary, and exits 1 when a line was skipped', async () => {
    const file = csvFile('username,email,groups\nann,ann@example.org,Staff\nbob,bob@,\ncat,,Nope\ndee,,\n');
    const r = await run([file, ...db()]);
    assert.deepEqual(r.stderr, ['line 3: email is not an email address: "bob@"', 'line 4: unknown group "Nope"']);
    assert.deepEqual(r.stdout, ['imported 2, updated 0, skipped 2 of 4 lines']);
    assert.equal(r.exitCode, 1);
    assert.deepEqual(
      (await servicesFor(t.db).users.list()).map((u) => [u.username, u.balance]),
      [
        ['ann', 300],
        ['dee', 0],
      ],
    );
  });

  it('exits 0 when every line was imported, and counts up-to-date users in update mode', async () => {
    const file = csvFile('username,full_name\nann,Ann\nbob,Bob\n');
    assert.deepEqual(await run([file, ...db()]), { exitCode: 0, stdout: ['imported 2, updated 0, skipped 0 of 2 lines'], stderr: [] });
    const again = csvFile('username,full_name\nann,Ann\nbob,Robert\ncat,Cat\n');
    assert.deepEqual(await run([again, '--update', ...db()]), {
      exitCode: 0,
      stdout: ['imported 1, updated 1, skipped 0 of 3 lines (1 already up to date)'],
      stderr: [],
    });
  });

  it('writes nothing with --dry-run, and says so', async () => {
    const r = await run([csvFile('username\nann\nann\n'), '--dry-run', ...db()]);
    assert.deepEqual(r, {
      exitCode: 1,
      stdout: ['dry run, nothing written: imported 1, updated 0, skipped 1 of 2 lines'],
      stderr: ['line 3: username ann already appears on line 2'],
    });
    assert.equal(await servicesFor(t.db).users.count(), 0);
  });

  it('exits 1 with one error line when the file cannot be used', async () => {
    const r = await run([csvFile('user,email\nann,a@b\n'), ...db()]);
    assert.equal(r.exitCode, 1);
    assert.equal(r.stderr.length, 1);
    assert.match(r.stderr[0] ?? '', /^error: unknown column "user" in the header; nothing was imported/);
    const missing = await run([path.join(t.dataDir, 'missing.csv'), ...db()]);
    assert.equal(missing.exitCode, 1);
    assert.match(missing.stderr[0] ?? '', /^error: cannot read .*missing\.csv: no such file$/);
  });

  it('exits 0 and says there is nothing to import for a header-only file', async () => {
    const file = csvFile('username,email\n');
    assert.deepEqual(await run([file, ...db()]), { exitCode: 0, stdout: [`nothing to import: ${file} has a header row but no user lines`], stderr: [] });
  });
});
