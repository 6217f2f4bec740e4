/**
 * What `npm run build` and `npm pack` make works on its own (issue 14, item 6): the built
 * `quotient install-cups-backend` installs a shim that runs the built backend, the built command
 * administers a database as a process (the other CLI tests run it in process), and a package
 * unpacked away from the checkout (as `npm install -g` lays it out: the tarball's files plus its
 * dependencies in node_modules, the command reached through a symlink) installs the backend and
 * serves the web tools from its own files.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DISCOVERY_LINE } from '../../secondary/print/cups/backend';
import { buildOnce, runBuilt, startBuilt } from '../utils/built-package';
import { ROOT } from '../utils/processes';

/** Installs the shim with `cli` and checks it: root-only, this node, `home`, and it runs the built backend. */
async function installAndCheck(cli: string, backendDir: string, home: string): Promise<void> {
  const r = await runBuilt(['install-cups-backend', '--backend-dir', backendDir], {}, { cli, cwd: os.tmpdir() });
  assert.equal(r.code, 0, `install-cups-backend failed: ${r.stderr}`);
  const shim = path.join(backendDir, 'quotient');
  assert.match(r.stdout, new RegExp(`Installed ${shim.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(mode 0700\\)`));
  assert.equal(fs.statSync(shim).mode & 0o777, 0o700);
  const text = fs.readFileSync(shim, 'utf8');
  assert.ok(text.includes(`QUOTIENT_HOME='${home}'\n`), `QUOTIENT_HOME is ${home}:\n${text}`);
  assert.ok(text.includes(`NODE='${process.execPath}'\n`));
  assert.match(text, /^RUN='auto'/m);
  // CUPS's discovery run (no arguments), traced: it answers, and through the build, not tsx.
  const traced = execFileSync('sh', ['-x', shim], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.equal(traced, `${DISCOVERY_LINE}\n`);
  const trace = execFileSync('sh', ['-c', `sh -x '${shim}' 2>&1 >/dev/null`], { encoding: 'utf8' });
  assert.ok(trace.includes(`exec ${process.execPath} ${path.join(home, 'dist/secondary/print/cups/backend.js')}`), `runs the built backend:\n${trace}`);
}

describe('the built package', function () {
  let tmp: string;

  before(async function () {
    this.timeout(600_000);
    await buildOnce();
  });
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'quotient-built-'));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('installs the CUPS backend with the built command (npm run build, npm start)', async function () {
    this.timeout(30_000);
    await installAndCheck(path.join(ROOT, 'dist/cli/main.js'), tmp, ROOT);
  });

  it('runs the administrative commands as a process: --help, a user and a balance adjustment, and a refusal exiting 1', async function () {
    this.timeout(60_000);
    const env = { QUOTIENT_DATA_DIR: tmp };
    const help = await runBuilt(['--help'], env);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: quotient \[options\] \[command\]$/m);
    for (const command of ['install-cups-backend', 'primary', 'secondary', 'users', 'balance', 'verify'])
      assert.match(help.stdout, new RegExp(`^ {2}${command} `, 'm'));

    const added = await runBuilt(['users', 'add', 'ann', '--initial-credit', '5.00'], env);
    assert.deepEqual([added.code, added.stdout, added.stderr], [0, 'created user ann (balance $5.00, restricted)\n', '']);
    const adjusted = await runBuilt(['balance', 'adjust', 'ann', '-1.25', '--comment', 'smoke test'], env);
    assert.deepEqual([adjusted.code, adjusted.stdout, adjusted.stderr], [0, 'ann: -$1.25 → balance $3.75\n', '']);
    const shown = await runBuilt(['users', 'show', 'ann', '--json'], env);
    assert.equal((JSON.parse(shown.stdout) as { account: { balance: number } }).account.balance, 375);

    const refused = await runBuilt(['balance', 'adjust', 'nobody', '1', '--comment', 'smoke test'], env);
    assert.deepEqual([refused.code, refused.stdout, refused.stderr], [1, '', 'error: user not found: nobody\n']);
  });

  it('packs everything an npm install -g needs: the backend installs and the primary serves its pages', async function () {
    this.timeout(120_000);
    // The build is already there; --ignore-scripts skips prepack's second build.
    const packed = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: ROOT, encoding: 'utf8' })) as {
      filename: string;
    }[];
    const tarball = path.join(tmp, packed[0]?.filename ?? '');
    const prefix = path.join(tmp, 'lib/node_modules');
    fs.mkdirSync(prefix, { recursive: true });
    execFileSync('tar', ['-xzf', tarball, '-C', prefix]);
    const home = path.join(prefix, 'quotient');
    fs.renameSync(path.join(prefix, 'package'), home);
    assert.equal(fs.existsSync(path.join(home, 'secondary')), false, 'the sources are not in the package');
    // npm would install the dependencies here; the checkout's serve (devDependencies unused).
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(home, 'node_modules'));
    // npm's bin link.
    fs.mkdirSync(path.join(tmp, 'bin'));
    const bin = path.join(tmp, 'bin/quotient');
    fs.symlinkSync(path.join(home, 'dist/cli/main.js'), bin);

    fs.mkdirSync(path.join(tmp, 'backend'));
    await installAndCheck(bin, path.join(tmp, 'backend'), home);

    const server = startBuilt(
      ['primary', '--data-dir', path.join(tmp, 'data')],
      {
        QUOTIENT_HTTP_HOST: '127.0.0.1',
        QUOTIENT_HTTP_PORT: '0',
        QUOTIENT_GRPC_HOST: '127.0.0.1',
        QUOTIENT_GRPC_PORT: '0',
        QUOTIENT_ADMIN_PASSWORD: 'packaged-admin-password',
      },
      { cli: bin, cwd: tmp, limitMs: 60_000 },
    );
    try {
      let port: string | undefined;
      const deadline = Date.now() + 45_000;
      while (port === undefined && Date.now() < deadline && server.child.exitCode === null) {
        port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(server.stdout())?.[1];
        if (port === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(port, `the packaged primary starts: ${server.stdout()} ${server.stderr()}`);
      assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
      const signin = await fetch(`http://127.0.0.1:${port}/signin`);
      assert.equal(signin.status, 200);
      assert.match(await signin.text(), /<form[^>]*method="post"/i, 'the sign-in page renders from the packaged views');
      assert.equal((await fetch(`http://127.0.0.1:${port}/static/quotient.css`)).status, 200);
    } finally {
      server.child.kill('SIGTERM');
    }
    const r = await server.finished;
    assert.equal(r.code, 0, `stopped cleanly: ${r.stderr}`);
  });
});
