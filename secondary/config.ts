/**
 * The secondary's typed configuration: defaults < QUOTIENT_CONFIG file < environment
 * < flags, validated at start. The cluster secret comes from the environment or the config file
 * only, never a flag, so it does not show in `ps`.
 */
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { loadConfig } from '../common/config-loader';
import { ConfigError } from '../common/errors';

/** Linux's sun_path holds 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH_BYTES = 107;

/** "host:port", "[v6]:port"; the port 1..65535. */
const primaryAddressSchema = z
  .string()
  .trim()
  .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/, 'must be host:port, e.g. print-primary.example.org:9192')
  .refine((v) => {
    const port = Number(v.slice(v.lastIndexOf(':') + 1));
    return port >= 1 && port <= 65535;
  }, 'port must be 1..65535');

/** Metadata values must be printable ASCII; names and secrets travel in metadata. */
const metadataSafe = /^[\x21-\x7e]+$/;

const printerInfoSchema = z
  .object({
    queue: z.string().min(1).max(191),
    description: z.string().max(255).default(''),
    location: z.string().max(255).default(''),
    deviceUri: z.string().max(1024).default(''),
  })
  .strict();

export const secondaryConfigSchema = z
  .object({
    /** The primary's gRPC address. */
    primary: primaryAddressSchema,
    /** This secondary's unique name within its primary. */
    name: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'may hold letters, digits, dot, dash and underscore, starting with a letter or digit')
      .default(os.hostname()),
    role: z.enum(['print', 'proxy']).default('print'),
    dataDir: z.string().min(1).default('./data'),
    clusterSecret: z
      .string({ error: 'is required: set QUOTIENT_CLUSTER_SECRET or clusterSecret in the config file' })
      .min(16, 'must be at least 16 characters')
      .max(512)
      .regex(metadataSafe, 'must be printable ASCII without spaces'),
    /** The local endpoint (Unix socket); default <dataDir>/quotient.sock. */
    socketPath: z.string().min(1).optional(),
    /** PEM file of the CA that signed the primary's certificate: turns TLS on. */
    tlsCa: z.string().min(1).optional(),
    /** PEM certificate and key of this secondary: with tlsCa, mutual TLS. */
    tlsCert: z.string().min(1).optional(),
    tlsKey: z.string().min(1).optional(),
    /** The name the primary's certificate holds, when it is not the host in `primary` (e.g. connecting by IP address). */
    tlsServerName: z.string().min(1).max(253).optional(),
    heartbeatSeconds: z.coerce.number().int().min(1).max(3600).default(15),
    /** Deadline of every one-job call to the primary (authorise, register, heartbeat). */
    callDeadlineMs: z.coerce.number().int().min(100).max(120_000).default(3000),
    /** Refuse new jobs when the outbox file would grow past this (protects the print server's disk). */
    outboxMaxMb: z.coerce.number().int().min(1).max(1_048_576).default(4096),
    /** Print queues this secondary serves, announced when it registers (print role). */
    printers: z.array(printerInfoSchema).max(1000).default([]),
    /** Proxy role: Squid's access.log to tail (rotation-safe, exactly-once); see docs/proxy-secondary.md. */
    proxyAccessLog: z.string().min(1).optional(),
    /** Proxy role: host:port where Squid's `access_log tcp://` feed connects (loopback recommended). */
    proxyTcpListen: z
      .string()
      .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/, 'must be host:port, e.g. 127.0.0.1:5140')
      .optional(),
    /** Proxy role: seconds per usage report; overrides the interval the primary pushes (1..3600). */
    proxyReportSeconds: z.coerce.number().int().min(1).max(3600).optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if ((c.tlsCert === undefined) !== (c.tlsKey === undefined)) {
      ctx.addIssue({ code: 'custom', path: [c.tlsCert === undefined ? 'tlsCert' : 'tlsKey'], message: 'tlsCert and tlsKey go together (mutual TLS)' });
    }
    if (c.tlsCert !== undefined && c.tlsCa === undefined) {
      ctx.addIssue({ code: 'custom', path: ['tlsCa'], message: 'mutual TLS needs tlsCa (the CA of the primary) as well' });
    }
    // Squid writes every line to each access_log it has, so reading both would charge every request twice.
    if (c.proxyAccessLog !== undefined && c.proxyTcpListen !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['proxyTcpListen'],
        message:
          'set proxyAccessLog or proxyTcpListen, not both: Squid logs each request to both, so every request would be charged twice (proxyAccessLog is the exactly-once one; see docs/proxy-secondary.md)',
      });
    }
  });

type Parsed = z.output<typeof secondaryConfigSchema>;
export type SecondaryConfig = Omit<Parsed, 'socketPath'> & { socketPath: string };
export type SecondaryRole = SecondaryConfig['role'];
type Key = keyof z.input<typeof secondaryConfigSchema>;

export const SECONDARY_ENV: Partial<Record<Key, string>> = {
  primary: 'QUOTIENT_PRIMARY',
  name: 'QUOTIENT_SECONDARY_NAME',
  role: 'QUOTIENT_SECONDARY_ROLE',
  dataDir: 'QUOTIENT_DATA_DIR',
  clusterSecret: 'QUOTIENT_CLUSTER_SECRET',
  socketPath: 'QUOTIENT_SOCKET',
  tlsCa: 'QUOTIENT_TLS_CA',
  tlsCert: 'QUOTIENT_TLS_CERT',
  tlsKey: 'QUOTIENT_TLS_KEY',
  tlsServerName: 'QUOTIENT_TLS_SERVER_NAME',
  heartbeatSeconds: 'QUOTIENT_HEARTBEAT_SECONDS',
  callDeadlineMs: 'QUOTIENT_CALL_DEADLINE_MS',
  outboxMaxMb: 'QUOTIENT_OUTBOX_MAX_MB',
  proxyAccessLog: 'QUOTIENT_PROXY_ACCESS_LOG',
  proxyTcpListen: 'QUOTIENT_PROXY_TCP_LISTEN',
  proxyReportSeconds: 'QUOTIENT_PROXY_REPORT_SECONDS',
  logLevel: 'QUOTIENT_LOG_LEVEL',
};

/** Settings that may be given as flags: everything but the secret. */
export type SecondaryFlags = Partial<Record<Exclude<Key, 'clusterSecret'>, unknown>>;

export function loadSecondaryConfig(opts: { file?: string | undefined; env?: NodeJS.ProcessEnv; flags?: SecondaryFlags } = {}): SecondaryConfig {
  const env = opts.env ?? process.env;
  // Dropped even when a caller slips it in: a secret on the command line is visible in `ps`.
  const { clusterSecret: _ignored, ...flags } = (opts.flags ?? {}) as Partial<Record<Key, unknown>>;
  const parsed = loadConfig(secondaryConfigSchema, {
    file: opts.file ?? env.QUOTIENT_CONFIG,
    env,
    envMap: SECONDARY_ENV,
    flags,
  });
  const dataDir = path.resolve(parsed.dataDir);
  const socketPath = path.resolve(dataDir, parsed.socketPath ?? 'quotient.sock');
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) {
    // Checked here rather than failing later with an opaque EINVAL from listen().
    throw new ConfigError(`invalid configuration: socketPath: ${socketPath} is longer than the ${MAX_SOCKET_PATH_BYTES} bytes a Unix socket path may have`, {
      socketPath,
    });
  }
  const resolve = (p: string | undefined): string | undefined => (p === undefined ? undefined : path.resolve(p));
  const config: SecondaryConfig = { ...parsed, dataDir, socketPath };
  const tlsCa = resolve(parsed.tlsCa);
  const tlsCert = resolve(parsed.tlsCert);
  const tlsKey = resolve(parsed.tlsKey);
  if (tlsCa !== undefined) config.tlsCa = tlsCa;
  if (tlsCert !== undefined) config.tlsCert = tlsCert;
  if (tlsKey !== undefined) config.tlsKey = tlsKey;
  const proxyAccessLog = resolve(parsed.proxyAccessLog);
  if (proxyAccessLog !== undefined) config.proxyAccessLog = proxyAccessLog;
  return config;
}
