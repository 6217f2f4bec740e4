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
    assert.throws(() => loadPrimaryConfig({ env: { QUOTIENT_HTTP_PORT: 'eighty' } }), (err: Error) => {
      assert.match(err.message, /httpPort/);
      assert.match(err.message, /QUOTIENT_HTTP_PORT/);
      return (err as { code?: string }).code === 'CONFIG';
    });
    assert.throws(() => loadPrimaryConfig({ env: { QUOTIENT_HTTP_PORT: '70000' } }), /httpPort/);
  });

  it('refuses unknown keys, broken JSON and a missing file', () => {
    assert.throws(() => loadPrimaryConfig({ file: tempFile('{"htpPort": 1}'), env: {} }), /htpPort/);
    assert.throws(() => loadPrimaryConfig({ file: tempFile('{nope'), env: {} }), /not valid JSON/);
    assert.throws(() => loadPrimaryConfig({ file: '/nonexistent/quotient.json', env: {} }), /cannot read config file/);
    assert.throws(() => loadPrimaryConfig({ file: tempFile('[1,2]'), env: {} }), /JSON object/);
  });
});
