/**
 * `quotient secondary` as a real process (the real entry point, cli/main.ts) against a real
 * primary: it starts, registers, serves its socket, takes the secret only from the environment,
 * stops cleanly on SIGTERM, and loads none of the primary's modules.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import type { RunningPrimary } from '../../../primary/boot';
import { LocalEndpointClient } from '../../../secondary/local-endpoint/client';
import { describeOnEachDatabase } from '../../utils/databases';
import { accountFor } from '../../utils/fixtures';
import { startTestPrimary, TEST_SECRET } from '../../utils/primary';
import { ROOT } from '../../utils/processes';
import { removeDir, tempDir } from '../../unit/secondary/helpers';

const ENTRY = path.join(ROOT, 'cli/main.ts');

interface Child {
  process: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts `quotient secondary ...args`; with `preload`, that script is required before the entry point. */
function runSecondary(args: string[], env: NodeJS.ProcessEnv, preload?: string): Child {
  const child = spawn(process.execPath, [...(preload ? ['--require', preload] : []), '--import', 'tsx', ENTRY, 'secondary', ...args], {
    cwd: ROOT,
    env: { ...process.env, QUOTIENT_LOG_LEVEL: 'warn', QUOTIENT_CLUSTER_SECRET: '', QUOTIENT_CONFIG: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  return { process: child, stdout: () => out, stderr: () => err, exited };
}

async function waitForOutput(child: Child, pattern: RegExp): Promise<void> {
  while (!pattern.test(child.stdout())) {
    const ended = await Promise.race([once(child.process.stdout!, 'data').then(() => false), child.exited.then(() => true)]);
    if (ended && !pattern.test(child.stdout())) throw new Error(`exited before ${pattern}: ${child.stdout()} ${child.stderr()}`);
  }
}

describeOnEachDatabase('quotient secondary (process)', (t) => {
  let primary: RunningPrimary;
  let dir: string;
  let child: Child | undefined;

  beforeEach(async () => {
    primary = await startTestPrimary(t);
    dir = tempDir();
  });

  afterEach(async () => {
    if (child && child.process.exitCode === null) {
      child.process.kill('SIGKILL');
      await child.exited;
    }
    child = undefined;
    await primary.shutdown('test');
    removeDir(dir);
  });

  it('starts with the secret from the environment, registers, serves jobs, and stops cleanly on SIGTERM', async function () {
    this.timeout(60_000);
    await accountFor(primary.services, { username: 'ann', restricted: true, initialCredit: 100 });
    const config = path.join(dir, 'secondary.json');
    fs.writeFileSync(config, JSON.stringify({ printers: [{ queue: 'lab', description: 'Lab printer' }], heartbeatSeconds: 1 }));
    // A script required first writes down, as the process exits, every module it loaded.
    const loaded = path.join(dir, 'loaded-modules.json');
    const preload = path.join(dir, 'record-loaded-modules.cjs');
    fs.writeFileSync(
      preload,
      `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(loaded)}, JSON.stringify(Object.keys(require.cache))));\n`,
    );
    const registered = once(primary.secondaries.events, 'config');
    child = runSecondary(
      ['--primary', `127.0.0.1:${primary.grpcPort}`, '--name', 'print-cli', '--role', 'print', '--data-dir', dir, '--config', config],
      { QUOTIENT_CLUSTER_SECRET: TEST_SECRET },
      preload,
    );
    await waitForOutput(child, /Quotient secondary "print-cli" \(print\) serving .*quotient\.sock; primary 127\.0\.0\.1:\d+/);
    assert.deepEqual(await registered, ['print-cli']);
    assert.ok(!child.process.spawnargs.join(' ').includes(TEST_SECRET), 'the secret is not on the command line');

    const socket = path.join(dir, 'quotient.sock');
    const client = await LocalEndpointClient.connect(socket);
    try {
      const answer = await client.authorize({ jobId: 'urn:uuid:cli-1', queue: 'lab', username: 'ann', pages: 2 });
      assert.deepEqual(answer, { ok: true, decision: 'allow', jobId: 'urn:uuid:cli-1', reason: '', cost: 20, charged: true, offline: false, id: 1 });
    } finally {
      client.close();
    }

    child.process.kill('SIGTERM');
    assert.equal(await child.exited, 0);
    assert.equal(fs.existsSync(socket), false, 'the socket is removed');
    assert.ok(fs.existsSync(path.join(dir, 'outbox.db')));

    // Small print and proxy servers run this: none of the primary's code nor its libraries.
    const modules = JSON.parse(fs.readFileSync(loaded, 'utf8')) as string[];
    assert.ok(modules.includes(path.join(ROOT, 'secondary/daemon.ts')), 'the record covers the daemon');
    const primarys = modules.filter(
      (m) =>
        m.startsWith(path.join(ROOT, 'primary/')) ||
        m.startsWith(path.join(ROOT, 'web-tools/')) ||
        /\/node_modules\/(knex|express|handlebars|mysql2|node-cron)\//.test(m),
    );
    assert.deepEqual(primarys, []);
  });

  it('has no flag for the secret, and stops with a clear message when the secret is missing', async () => {
    child = runSecondary(['--primary', `127.0.0.1:${primary.grpcPort}`, '--data-dir', dir, '--cluster-secret', TEST_SECRET], {});
    assert.equal(await child.exited, 1);
    assert.match(child.stderr(), /unknown option '--cluster-secret'/);

    child = runSecondary(['--primary', `127.0.0.1:${primary.grpcPort}`, '--data-dir', dir], {});
    assert.equal(await child.exited, 1);
    assert.match(child.stderr(), /clusterSecret: is required: set QUOTIENT_CLUSTER_SECRET/);
  });
});
