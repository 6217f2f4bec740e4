import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadPrimaryConfig } from '../../../primary/config';

function tempFile(content: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quotient-config-'));
  const file = path.join(dir, 'quotient.json');
  fs.writeFileSync(file, content);
  return file;
}

describe('loadPrimaryConfig()', () => {
  it('uses the documented defaults', () => {
    const c = loadPrimaryConfig({ env: {} });
    assert.equal(c.httpPort, 9191);
    assert.equal(c.grpcPort, 9192);
    assert.equal(c.databaseUrl, '');
    assert.equal(c.dataDir, path.resolve('./data'));
  });

  it('layers defaults < file < environment < flags', () => {
    const file = tempFile(JSON.stringify({ httpPort: 8000, grpcPort: 8001, dataDir: '/srv/q' }));
    const c = loadPrimaryConfig({ file, env: { QUOTIENT_HTTP_PORT: '8100', QUOTIENT_GRPC_PORT: '8101' }, flags: { grpcPort: '8201' } });
    assert.equal(c.httpPort, 8100);
    assert.equal(c.grpcPort, 8201);
    assert.equal(c.dataDir, '/srv/q');
  });

  it('reads the file named by QUOTIENT_CONFIG', () => {
    const file = tempFile(JSON.stringify({ httpPort: 7000 }));
    assert.equal(loadPrimaryConfig({ env: { QUOTIENT_CONFIG: file } }).httpPort, 7000);
  });

  it('names the bad setting and where it came from', () => {
    assert.throws(
      () => loadPrimaryConfig({ env: { QUOTIENT_HTTP_PORT: 'eighty' } }),
      (err: Error) => {
        assert.match(err.message, /httpPort/);
        assert.match(err.message, /QUOTIENT_HTTP_PORT/);
        return (err as { code?: string }).code === 'CONFIG';
      },
    );
    assert.throws(() => loadPrimaryConfig({ env: { QUOTIENT_HTTP_PORT: '70000' } }), /httpPort/);
  });

  it('reads trusted proxies as a list in the file or comma-separated in the environment, and names a bad one', () => {
    assert.deepEqual(loadPrimaryConfig({ env: {} }).trustedProxies, []);
    const file = tempFile(JSON.stringify({ trustedProxies: ['10.0.0.5', '192.168.0.0/16', '::1', 'fd00::/8', 'loopback'] }));
    assert.deepEqual(loadPrimaryConfig({ file, env: {} }).trustedProxies, ['10.0.0.5', '192.168.0.0/16', '::1', 'fd00::/8', 'loopback']);
    assert.deepEqual(loadPrimaryConfig({ file, env: { QUOTIENT_TRUSTED_PROXIES: ' 127.0.0.1, 10.1.2.0/24 ,' } }).trustedProxies, ['127.0.0.1', '10.1.2.0/24']);
    for (const bad of ['10.0.0.0/33', 'proxy.example.edu', '10.0.0.1/8/8', '::1/129', '10.0.0.0/x']) {
      assert.throws(
        () => loadPrimaryConfig({ env: { QUOTIENT_TRUSTED_PROXIES: `127.0.0.1,${bad}` } }),
        (err: Error) => {
          assert.match(err.message, new RegExp(`trustedProxies\\.1: ${bad.replace(/[.*/]/g, '\\$&')} is not an IP address`));
          assert.match(err.message, /QUOTIENT_TRUSTED_PROXIES/);
          return true;
        },
      );
    }
  });

  it('refuses unknown keys, broken JSON and a missing file', () => {
    assert.throws(() => loadPrimaryConfig({ file: tempFile('{"htpPort": 1}'), env: {} }), /htpPort/);
    assert.throws(() => loadPrimaryConfig({ file: tempFile('{nope'), env: {} }), /not valid JSON/);
    assert.throws(() => loadPrimaryConfig({ file: '/nonexistent/quotient.json', env: {} }), /cannot read config file/);
    assert.throws(() => loadPrimaryConfig({ file: tempFile('[1,2]'), env: {} }), /JSON object/);
  });
});
