/**
 * The built `quotient primary` and `quotient secondary` as a service manager runs them (issue 14,
 * item 7): a bad setting of any kind exits 1 within seconds with one clear line on stderr, and a
 * setting that can be judged without the database creates nothing (no data directory, database
 * or secret); a start-up error after the database is open still exits at once; SIGTERM during
 * start-up stops it at once.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { buildOnce, runBuilt, startBuilt, type Finished } from '../utils/built-package';
import { freePort } from '../utils/ports';

/** Node's start and module loading on a busy 2-core machine, with room to spare; a hang takes the full limit. */
const PROMPT_MS = 6000;
const SECRET = 'start-up-test-secret-0123456789';

describe('the built quotient command refuses a bad start', function () {
  let tmp: string;
  let n = 0;
  /** A data directory that does not exist yet, so a test can tell whether anything was created. */
  const freshDataDir = (): string => path.join(tmp, `case-${n++}`, 'data');

  before(async function () {
    this.timeout(600_000);
    await buildOnce();
  });
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'quotient-start-'));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const loopback = { QUOTIENT_HTTP_HOST: '127.0.0.1', QUOTIENT_GRPC_HOST: '127.0.0.1', QUOTIENT_HTTP_PORT: '0', QUOTIENT_GRPC_PORT: '0' };

  /** Exit 1, promptly, with one line on stderr matching `pattern`. */
  function assertRefused(r: Finished, pattern: RegExp): void {
    assert.equal(r.timedOut, false, `still running after ${r.ms} ms; stderr: ${r.stderr}`);
    assert.equal(r.code, 1, `exit code ${r.code}; stderr: ${r.stderr}`);
    assert.ok(r.ms < PROMPT_MS, `took ${r.ms} ms to exit`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line on stderr: ${r.stderr}`);
    assert.match(lines[0] ?? '', /^error: /);
    assert.match(lines[0] ?? '', pattern);
  }

  describe('quotient primary', () => {
    const primary = async (env: NodeJS.ProcessEnv, pattern: RegExp, args: string[] = []): Promise<void> => {
      const dataDir = freshDataDir();
      const r = await runBuilt(['primary', '--data-dir', dataDir, ...args], { ...loopback, ...env });
      assertRefused(r, pattern);
      assert.equal(fs.existsSync(path.dirname(dataDir)), false, `nothing created for a configuration error: ${r.stdout}`);
    };

    it('refuses a cluster secret shorter than 16 characters before it touches the database', async function () {
      this.timeout(30_000);
      await primary(
        { QUOTIENT_CLUSTER_SECRET: 'short' },
        /clusterSecret: must be at least 16 characters .*\(from environment variable QUOTIENT_CLUSTER_SECRET\)/,
      );
    });

    it('refuses a port out of range, naming the variable it came from', async function () {
      this.timeout(30_000);
      await primary({ QUOTIENT_HTTP_PORT: '70000' }, /httpPort: .*65535.*\(from environment variable QUOTIENT_HTTP_PORT\)/);
      await primary({}, /grpcPort: .*\(from command-line flag\)/, ['--grpc-port', 'ninety']);
    });

    it('refuses an unknown key in the config file, naming the key and the file', async function () {
      this.timeout(30_000);
      const file = path.join(tmp, 'primary.json');
      fs.writeFileSync(file, JSON.stringify({ httpPort: 9191, htpPort: 1 }));
      await primary({ QUOTIENT_CONFIG: file }, new RegExp(`htpPort: unknown setting \\(from config file ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)`));
    });

    it('refuses an unknown time zone and a database URL it cannot parse', async function () {
      this.timeout(30_000);
      await primary({ QUOTIENT_TIMEZONE: 'Mars/Olympus_Mons' }, /timezone: is not a known IANA time zone/);
      await primary({ QUOTIENT_DATABASE_URL: 'postgres://db.example.org/quotient' }, /databaseUrl: unsupported database URL/);
      await primary({ QUOTIENT_DATABASE_URL: 'mysql://root@db.example.org' }, /databaseUrl: database URL must name a host and a database/);
    });

    it('refuses missing or unusable TLS files, and a certificate without its key, before the database', async function () {
      this.timeout(30_000);
      await primary(
        { QUOTIENT_GRPC_TLS_CERT: path.join(tmp, 'nope.pem'), QUOTIENT_GRPC_TLS_KEY: path.join(tmp, 'nope.key') },
        /grpcTlsCert: cannot read .*nope\.pem: ENOENT; grpcTlsKey: cannot read/,
      );
      const cert = path.join(tmp, 'server.pem');
      fs.writeFileSync(cert, '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');
      await primary({ QUOTIENT_GRPC_TLS_CERT: cert }, /grpcTlsKey: grpcTlsCert and grpcTlsKey go together/);
      const notPem = path.join(tmp, 'not.pem');
      fs.writeFileSync(notPem, 'hello\n');
      await primary({ QUOTIENT_GRPC_TLS_CERT: cert, QUOTIENT_GRPC_TLS_KEY: notPem }, /grpcTlsKey: .*not\.pem is not a PEM file/);
    });

    it('exits at once when MySQL refuses the connection', async function () {
      this.timeout(30_000);
      const port = await freePort();
      const r = await runBuilt(['primary', '--data-dir', freshDataDir()], {
        ...loopback,
        QUOTIENT_CLUSTER_SECRET: SECRET,
        QUOTIENT_DATABASE_URL: `mysql://quotient:pw@127.0.0.1:${port}/quotient`,
      });
      assertRefused(r, new RegExp(`cannot use database mysql://quotient@127\\.0\\.0\\.1:${port}/quotient: ECONNREFUSED`));
      assert.doesNotMatch(r.stderr, /pw/, 'the password is not shown');
    });

    it('exits at once when its HTTP port is taken, after the database is open', async function () {
      this.timeout(30_000);
      const taken = net.createServer();
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
      try {
        const port = (taken.address() as net.AddressInfo).port;
        const dataDir = freshDataDir();
        const r = await runBuilt(['primary', '--data-dir', dataDir], {
          ...loopback,
          QUOTIENT_HTTP_PORT: String(port),
          QUOTIENT_ADMIN_PASSWORD: 'admin-password-0123',
        });
        assertRefused(r, new RegExp(`EADDRINUSE.*127\\.0\\.0\\.1:${port}`));
        assert.ok(fs.existsSync(path.join(dataDir, 'quotient.db')), 'this error comes after the database was opened');
      } finally {
        taken.close();
      }
    });

    it('stops at once on SIGTERM while it waits for the database server', async function () {
      this.timeout(30_000);
      // Accepts connections and never answers: the MySQL handshake waits (connectTimeout is 5 s).
      const silent = net.createServer(() => undefined);
      const connected = new Promise<void>((resolve) => silent.once('connection', () => resolve()));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      try {
        const port = (silent.address() as net.AddressInfo).port;
        const server = startBuilt(['primary', '--data-dir', freshDataDir()], {
          ...loopback,
          QUOTIENT_CLUSTER_SECRET: SECRET,
          QUOTIENT_DATABASE_URL: `mysql://root@127.0.0.1:${port}/quotient`,
        });
        await connected;
        const signalled = Date.now();
        server.child.kill('SIGTERM');
        const r = await server.finished;
        assert.equal(r.timedOut, false);
        assert.equal(r.code, 0, `stderr: ${r.stderr}`);
        assert.ok(Date.now() - signalled < 1500, `exited ${Date.now() - signalled} ms after SIGTERM`);
        assert.match(r.stderr, /stopped by SIGTERM during start-up/);
      } finally {
        silent.close();
      }
    });
  });

  describe('quotient secondary', () => {
    const secondary = async (env: NodeJS.ProcessEnv, pattern: RegExp): Promise<void> => {
      const dataDir = freshDataDir();
      const r = await runBuilt(['secondary', '--data-dir', dataDir], { QUOTIENT_PRIMARY: '127.0.0.1:9192', QUOTIENT_CLUSTER_SECRET: SECRET, ...env });
      assertRefused(r, pattern);
      assert.equal(fs.existsSync(path.dirname(dataDir)), false, `nothing created for a configuration error: ${r.stdout}`);
    };

    it('refuses a short cluster secret, a bad primary address and an unknown key', async function () {
      this.timeout(30_000);
      await secondary({ QUOTIENT_CLUSTER_SECRET: 'short' }, /clusterSecret: must be at least 16 characters/);
      await secondary({ QUOTIENT_PRIMARY: '127.0.0.1:99999' }, /primary: port must be 1\.\.65535 \(from environment variable QUOTIENT_PRIMARY\)/);
      const file = path.join(tmp, 'secondary.json');
      fs.writeFileSync(file, JSON.stringify({ primry: 'print-primary:9192' }));
      await secondary({ QUOTIENT_CONFIG: file }, /primry: unknown setting \(from config file/);
    });

    it('refuses a missing TLS file before it creates its outbox', async function () {
      this.timeout(30_000);
      await secondary({ QUOTIENT_TLS_CA: path.join(tmp, 'missing-ca.pem') }, /cannot read tlsCa .*missing-ca\.pem/);
    });

    it('exits at once when its proxy TCP port is taken', async function () {
      this.timeout(30_000);
      const taken = net.createServer();
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
      try {
        const port = (taken.address() as net.AddressInfo).port;
        const r = await runBuilt(['secondary', '--data-dir', freshDataDir(), '--role', 'proxy'], {
          QUOTIENT_PRIMARY: '127.0.0.1:9192',
          QUOTIENT_CLUSTER_SECRET: SECRET,
          QUOTIENT_PROXY_TCP_LISTEN: `127.0.0.1:${port}`,
        });
        assertRefused(r, /EADDRINUSE/);
      } finally {
        taken.close();
      }
    });
  });
});
