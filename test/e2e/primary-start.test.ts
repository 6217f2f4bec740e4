import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeOnEachDatabase } from '../utils/databases';
import { startCli } from '../utils/processes';
import { verifyPassword } from '../../primary/users/passwords';

describeOnEachDatabase('quotient primary', (t) => {
  it('serves /healthz, creates the first admin once, and stops cleanly on SIGTERM', async function () {
    this.timeout(90000);
    const env = {
      QUOTIENT_DATABASE_URL: t.url,
      QUOTIENT_DATA_DIR: t.dataDir,
      QUOTIENT_HTTP_HOST: '127.0.0.1',
      QUOTIENT_HTTP_PORT: '0',
      QUOTIENT_GRPC_HOST: '127.0.0.1',
      QUOTIENT_GRPC_PORT: '0',
    };
    const first = startCli(['primary'], env);
    const [, password] = await first.waitFor(/Created administrator "admin" with password: (\S+)/);
    const [, port] = await first.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok', database: t.dialect });
    assert.equal((await fetch(`http://127.0.0.1:${port}/nope`)).status, 404);
    assert.equal(await first.stop('SIGTERM'), 0);

    const hash = (await t.db.knex('users').where({ username: 'admin', is_admin: true }).first('password_hash')) as { password_hash: string };
    assert.equal(await verifyPassword(password ?? '', hash.password_hash), true);
    // A primary process hashes at the production cost (this test process hashes cheaply).
    assert.match(hash.password_hash, /^scrypt\$16384\$8\$1\$/);

    const second = startCli(['primary'], env);
    await second.waitFor(/listening on/);
    assert.doesNotMatch(second.output(), /Created administrator/);
    assert.equal(await second.stop('SIGINT'), 0);
  });

  it('takes the first admin password from QUOTIENT_ADMIN_PASSWORD and never prints it', async function () {
    this.timeout(60000);
    const server = startCli(['primary', '--http-host', '127.0.0.1', '--http-port', '0', '--grpc-host', '127.0.0.1', '--grpc-port', '0'], {
      QUOTIENT_DATABASE_URL: t.url,
      QUOTIENT_DATA_DIR: t.dataDir,
      QUOTIENT_ADMIN_USERNAME: 'root-admin',
      QUOTIENT_ADMIN_PASSWORD: 'correct horse battery',
    });
    await server.waitFor(/listening on/);
    assert.match(server.output(), /Created administrator "root-admin" with the password from the configuration/);
    assert.doesNotMatch(server.output(), /correct horse/);
    assert.equal(await server.stop(), 0);
  });
});

describe('quotient primary on a fresh machine', () => {
  it('creates its data directory and SQLite database on first start', async function () {
    this.timeout(60000);
    const dataDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'quotient-fresh-')), 'nested', 'data');
    const server = startCli(
      ['primary', '--data-dir', dataDir, '--http-host', '127.0.0.1', '--http-port', '0', '--grpc-host', '127.0.0.1', '--grpc-port', '0'],
      { QUOTIENT_DATABASE_URL: '' },
    );
    const [, port] = await server.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    assert.ok(fs.existsSync(path.join(dataDir, 'quotient.db')));
    assert.equal(await server.stop(), 0);
  });

  it('refuses a bad setting with a message naming it, and exits 1', async function () {
    this.timeout(60000);
    const server = startCli(['primary'], { QUOTIENT_HTTP_PORT: 'ninety' });
    const code = await new Promise<number | null>((resolve) => server.child.on('exit', resolve));
    assert.equal(code, 1);
  });
});
