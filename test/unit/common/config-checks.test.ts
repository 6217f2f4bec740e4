/**
 * checkPrimaryConfig(): what a primary checks before it creates anything, all problems in one
 * line. (The built command is tested as a process in test/e2e/start-up-errors.test.ts.)
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadPrimaryConfig } from '../../../primary/config';
import { checkPrimaryConfig } from '../../../primary/config-checks';

describe('checkPrimaryConfig()', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quotient-checks-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const config = (flags: Record<string, unknown>) => loadPrimaryConfig({ env: {}, flags: { dataDir: path.join(dir, 'data'), ...flags } });
  const pem = (name: string): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');
    return file;
  };

  it('passes a usable configuration and creates nothing', () => {
    checkPrimaryConfig(
      config({ grpcTlsCert: pem('cert.pem'), grpcTlsKey: pem('key.pem'), grpcTlsClientCa: pem('ca.pem'), databaseUrl: 'mysql://q:pw@db.example.org/quotient' }),
    );
    assert.equal(fs.existsSync(path.join(dir, 'data')), false);
  });

  it('reports every problem at once, on one line', () => {
    const file = path.join(dir, 'plain-file');
    fs.writeFileSync(file, 'x');
    assert.throws(
      () => checkPrimaryConfig(config({ dataDir: file, databaseUrl: 'redis://cache', grpcTlsCert: path.join(dir, 'missing.pem'), grpcTlsClientCa: file })),
      (err: Error) => {
        assert.doesNotMatch(err.message, /\n/);
        assert.match(err.message, /^invalid configuration: databaseUrl: unsupported database URL "redis:\/\/cache"/);
        assert.match(err.message, /grpcTlsKey: grpcTlsCert and grpcTlsKey go together/);
        assert.match(err.message, /grpcTlsCert: cannot read .*missing\.pem: ENOENT/);
        assert.match(err.message, /grpcTlsClientCa: .*plain-file is not a PEM file/);
        assert.match(err.message, /dataDir: .*plain-file is not a directory/);
        return true;
      },
    );
  });

  it('wants a client CA only with a server certificate', () => {
    assert.throws(() => checkPrimaryConfig(config({ grpcTlsClientCa: pem('ca.pem') })), /grpcTlsClientCa: mutual TLS needs grpcTlsCert and grpcTlsKey/);
  });

  it('refuses a data directory below a file', () => {
    const file = path.join(dir, 'plain-file');
    fs.writeFileSync(file, 'x');
    assert.throws(() => checkPrimaryConfig(config({ dataDir: path.join(file, 'data') })), /dataDir: .*plain-file is not a directory/);
  });
});

describe('loadPrimaryConfig() and the cluster secret', () => {
  it("holds a configured secret to the secondaries' rule: 16 printable ASCII characters, no spaces", () => {
    assert.throws(
      () => loadPrimaryConfig({ env: { QUOTIENT_CLUSTER_SECRET: 'short' } }),
      /clusterSecret: must be at least 16 characters .*\(from environment variable QUOTIENT_CLUSTER_SECRET\)/,
    );
    assert.throws(
      () => loadPrimaryConfig({ env: { QUOTIENT_CLUSTER_SECRET: 'a secret with spaces in it' } }),
      /clusterSecret: must be printable ASCII without spaces/,
    );
    assert.equal(loadPrimaryConfig({ env: {} }).clusterSecret, '', 'unset: generated at first start');
    assert.equal(loadPrimaryConfig({ env: { QUOTIENT_CLUSTER_SECRET: 'sixteen-chars-ok' } }).clusterSecret, 'sixteen-chars-ok');
  });
});
