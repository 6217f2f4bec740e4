import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadSecondaryConfig } from '../../../secondary/config';
import { removeDir, tempDir } from './helpers';

const SECRET = 'a-cluster-secret-of-32-characters';
const base = { QUOTIENT_PRIMARY: 'print-primary.example.org:9192', QUOTIENT_CLUSTER_SECRET: SECRET };

describe('loadSecondaryConfig()', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => removeDir(dir));

  const file = (content: object): string => {
    const f = path.join(dir, 'secondary.json');
    fs.writeFileSync(f, JSON.stringify(content));
    return f;
  };

  it('uses the documented defaults', () => {
    const c = loadSecondaryConfig({ env: base });
    assert.equal(c.primary, 'print-primary.example.org:9192');
    assert.equal(c.name, os.hostname());
    assert.equal(c.role, 'print');
    assert.equal(c.dataDir, path.resolve('./data'));
    assert.equal(c.socketPath, path.resolve('./data/quotient.sock'));
    assert.equal(c.heartbeatSeconds, 15);
    assert.equal(c.callDeadlineMs, 3000);
    assert.equal(c.tlsCa, undefined);
    assert.deepEqual(c.printers, []);
  });

  it('layers defaults < file < environment < flags, and puts the socket in the data directory', () => {
    const f = file({ primary: 'a:1', name: 'from-file', role: 'proxy', heartbeatSeconds: 30, clusterSecret: SECRET, printers: [{ queue: 'lab' }] });
    const c = loadSecondaryConfig({ file: f, env: { QUOTIENT_SECONDARY_NAME: 'from-env', QUOTIENT_DATA_DIR: '/srv/q' }, flags: { name: 'from-flag' } });
    assert.deepEqual(
      [c.primary, c.name, c.role, c.heartbeatSeconds, c.dataDir, c.socketPath],
      ['a:1', 'from-flag', 'proxy', 30, '/srv/q', '/srv/q/quotient.sock'],
    );
    assert.deepEqual(c.printers, [{ queue: 'lab', description: '', location: '', deviceUri: '' }]);
  });

  it('reads the file named by QUOTIENT_CONFIG', () => {
    const f = file({ primary: '127.0.0.1:9192', clusterSecret: SECRET, callDeadlineMs: 500 });
    assert.equal(loadSecondaryConfig({ env: { QUOTIENT_CONFIG: f } }).callDeadlineMs, 500);
  });

  it('requires the cluster secret, at least 16 characters, and never takes it as a flag', () => {
    assert.throws(() => loadSecondaryConfig({ env: { QUOTIENT_PRIMARY: 'a:1' } }), /clusterSecret: is required: set QUOTIENT_CLUSTER_SECRET/);
    assert.throws(
      () => loadSecondaryConfig({ env: { ...base, QUOTIENT_CLUSTER_SECRET: 'short' } }),
      /clusterSecret: must be at least 16 characters \(from environment variable QUOTIENT_CLUSTER_SECRET\)/,
    );
    const sneakyFlags = { clusterSecret: SECRET } as Record<string, unknown>;
    assert.throws(() => loadSecondaryConfig({ env: { QUOTIENT_PRIMARY: 'a:1' }, flags: sneakyFlags }), /clusterSecret: is required/);
  });

  it('requires the primary as host:port', () => {
    assert.throws(() => loadSecondaryConfig({ env: { QUOTIENT_CLUSTER_SECRET: SECRET } }), /primary/);
    for (const bad of ['primary.example.org', 'http://p:9192', 'p:0', 'p:70000', 'p: 9192']) {
      assert.throws(() => loadSecondaryConfig({ env: { ...base, QUOTIENT_PRIMARY: bad } }), /primary: /, bad);
    }
    assert.equal(loadSecondaryConfig({ env: { ...base, QUOTIENT_PRIMARY: '[::1]:9192' } }).primary, '[::1]:9192');
  });

  it('refuses a name the primary would refuse, an unknown role and unknown keys', () => {
    assert.throws(() => loadSecondaryConfig({ env: { ...base, QUOTIENT_SECONDARY_NAME: 'print server' } }), /name: may hold letters/);
    assert.throws(() => loadSecondaryConfig({ env: base, flags: { role: 'scanner' } }), /role/);
    assert.throws(() => loadSecondaryConfig({ file: file({ primary: 'a:1', clusterSecret: SECRET, primaryy: 'b:2' }), env: {} }), /primaryy/);
  });

  it('turns on TLS with a CA, mutual TLS with a certificate and key too, and refuses half a pair', () => {
    const tls = loadSecondaryConfig({ env: { ...base, QUOTIENT_TLS_CA: 'ca.pem' } });
    assert.equal(tls.tlsCa, path.resolve('ca.pem'));
    const mtls = loadSecondaryConfig({ env: { ...base, QUOTIENT_TLS_CA: 'ca.pem', QUOTIENT_TLS_CERT: 'me.pem', QUOTIENT_TLS_KEY: 'me.key' } });
    assert.deepEqual([mtls.tlsCert, mtls.tlsKey], [path.resolve('me.pem'), path.resolve('me.key')]);
    assert.throws(
      () => loadSecondaryConfig({ env: { ...base, QUOTIENT_TLS_CA: 'ca.pem', QUOTIENT_TLS_CERT: 'me.pem' } }),
      /tlsKey: tlsCert and tlsKey go together/,
    );
    assert.throws(() => loadSecondaryConfig({ env: { ...base, QUOTIENT_TLS_CERT: 'me.pem', QUOTIENT_TLS_KEY: 'me.key' } }), /tlsCa: mutual TLS needs tlsCa/);
  });

  it("takes Squid's usage from a log file or from the tcp:// feed, and refuses both, which would charge every request twice", () => {
    const fromFile = loadSecondaryConfig({ env: { ...base, QUOTIENT_SECONDARY_ROLE: 'proxy', QUOTIENT_PROXY_ACCESS_LOG: 'quotient.log' } });
    assert.deepEqual([fromFile.proxyAccessLog, fromFile.proxyTcpListen], [path.resolve('quotient.log'), undefined]);
    const fromTcp = loadSecondaryConfig({ env: { ...base, QUOTIENT_SECONDARY_ROLE: 'proxy', QUOTIENT_PROXY_TCP_LISTEN: '127.0.0.1:5140' } });
    assert.deepEqual([fromTcp.proxyAccessLog, fromTcp.proxyTcpListen], [undefined, '127.0.0.1:5140']);
    assert.throws(
      () =>
        loadSecondaryConfig({
          env: { ...base, QUOTIENT_SECONDARY_ROLE: 'proxy', QUOTIENT_PROXY_ACCESS_LOG: 'quotient.log' },
          flags: { proxyTcpListen: '127.0.0.1:5140' },
        }),
      /proxyTcpListen: set proxyAccessLog or proxyTcpListen, not both: Squid logs each request to both, so every request would be charged twice/,
    );
  });

  it('refuses a socket path longer than a Unix socket allows', () => {
    assert.throws(() => loadSecondaryConfig({ env: { ...base, QUOTIENT_DATA_DIR: `/${'d'.repeat(120)}` } }), /socketPath: .* longer than the 107 bytes/);
  });
});
