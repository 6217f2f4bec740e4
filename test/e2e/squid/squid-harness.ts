/**
 * A private Squid per test run (squid -N with a temp squid.conf: loopback port, no cache_dir,
 * logs and pid in the temp dir, basic_fake_auth, hosts_file for made-up names) that includes the
 * shipped deploy/squid/quotient.conf, with only its three installed paths (log file, helper,
 * socket) replaced by this run's, so the documented configuration is the one tested. Also a
 * loopback origin serving bodies of known sizes, and a client that goes through the proxy as a
 * given user. Squid drops root privileges to its own user, so the temp dir is world-writable and
 * the secondary's socket world-connectable for the test.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';

import { freePort } from '../../utils/ports';
import { until } from '../../utils/until';
export const SQUID = '/usr/sbin/squid';
const REPO = path.resolve(__dirname, '../../..');

export function squidAvailable(): boolean {
  return fs.existsSync(SQUID) && fs.existsSync('/usr/lib/squid/basic_fake_auth');
}

export { freePort, until };

/** An origin on 127.0.0.1: GET /bytes/<n> answers n bytes, never cacheable. */
export async function startOrigin(): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const m = /^\/bytes\/(\d+)/.exec(req.url ?? '');
    if (!m) {
      res.writeHead(404).end();
      return;
    }
    const body = Buffer.alloc(Number(m[1]), 0x61);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length, 'cache-control': 'no-store' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface RunningSquid {
  port: number;
  accessLog: string;
  /** The same requests in Squid's native format (`logformat squid`), for the parser's tests of it. */
  nativeLog: string;
  rotate(): void;
  stop(): Promise<void>;
}

/** The installed paths in deploy/squid/quotient.conf, and what the snippet is for. */
const SNIPPET_PATHS = {
  accessLog: '/var/log/squid/quotient.log',
  helper: '/usr/local/bin/quotient-acl-helper',
  socketPath: '/var/lib/quotient/quotient.sock',
} as const;

/** The shipped snippet with this run's paths; throws when the snippet no longer names one of them. */
export function quotientSnippet(paths: Record<keyof typeof SNIPPET_PATHS, string>): string {
  let text = fs.readFileSync(path.join(REPO, 'deploy/squid/quotient.conf'), 'utf8');
  for (const key of Object.keys(SNIPPET_PATHS) as (keyof typeof SNIPPET_PATHS)[]) {
    const installed = SNIPPET_PATHS[key];
    if (!text.includes(installed))
      throw new Error(`deploy/squid/quotient.conf no longer mentions ${installed}; update the e2e harness and docs/proxy-secondary.md`);
    text = text.split(installed).join(paths[key]);
  }
  return text;
}

export async function startSquid(dir: string, opts: { socketPath: string; hosts: string[] }): Promise<RunningSquid> {
  fs.chmodSync(dir, 0o777);
  const port = await freePort();
  const accessLog = path.join(dir, 'access.log');
  const errors = path.join(dir, 'errors');
  // error_directory replaces every page: copy Squid's English templates and add ours.
  fs.cpSync('/usr/share/squid/errors/templates', errors, { recursive: true });
  fs.copyFileSync(path.join(REPO, 'deploy/squid/errors/ERR_QUOTIENT_BLOCKED'), path.join(errors, 'ERR_QUOTIENT_BLOCKED'));
  fs.writeFileSync(path.join(dir, 'hosts'), `127.0.0.1 ${opts.hosts.join(' ')}\n`);
  const snippet = path.join(dir, 'quotient.conf');
  fs.writeFileSync(snippet, quotientSnippet({ accessLog, helper: path.join(REPO, 'deploy/squid/quotient-acl-helper'), socketPath: opts.socketPath }));
  // The site's own part: where the snippet goes is as docs/proxy-secondary.md says (after
  // auth_param, before the site's http_access rules).
  const conf = `
http_port 127.0.0.1:${port}
pid_filename ${dir}/squid.pid
cache_log ${dir}/cache.log
coredump_dir ${dir}
error_directory ${errors}
hosts_file ${dir}/hosts
dns_nameservers 127.0.0.1
cache deny all
shutdown_lifetime 0 seconds
logfile_rotate 1
buffered_logs off
auth_param basic program /usr/lib/squid/basic_fake_auth
auth_param basic children 2
acl authed proxy_auth REQUIRED
include ${snippet}
access_log daemon:${dir}/native.log squid
http_access deny !authed
http_access allow authed
http_access deny all
`;
  const confFile = path.join(dir, 'squid.conf');
  fs.writeFileSync(confFile, conf);
  const child: ChildProcess = spawn(SQUID, ['-N', '-f', confFile], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, QUOTIENT_HOME: REPO, PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}` },
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await until(
      `squid listening on ${port}`,
      async () => {
        if (child.exitCode !== null)
          throw new Error(`squid exited: ${stderr} ${fs.existsSync(`${dir}/cache.log`) ? fs.readFileSync(`${dir}/cache.log`, 'utf8').slice(-2000) : ''}`);
        return new Promise<true | undefined>((resolve) => {
          const s = net.connect(port, '127.0.0.1');
          s.once('connect', () => {
            s.destroy();
            resolve(true);
          });
          s.once('error', () => resolve(undefined));
        });
      },
      20_000,
    );
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    port,
    accessLog,
    nativeLog: path.join(dir, 'native.log'),
    rotate: () => {
      const r = spawnSync(SQUID, ['-k', 'rotate', '-f', confFile], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`squid -k rotate failed: ${r.stderr}`);
    },
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

export interface ProxyAnswer {
  status: number;
  body: string;
  bytes: number;
}

/** GET `url` through the proxy as `user` (basic proxy authentication). */
export function fetchVia(proxyPort: number, url: string, user: string): Promise<ProxyAnswer> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: proxyPort,
        method: 'GET',
        path: url,
        headers: { host: u.host, 'proxy-authorization': `Basic ${Buffer.from(`${user}:secret`).toString('base64')}`, connection: 'close' },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, body: body.length < 100_000 ? body.toString('utf8') : '', bytes: body.length });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(15_000, () => req.destroy(new Error('proxy request timed out')));
    req.on('error', reject);
    req.end();
  });
}
