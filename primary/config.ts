/**
 * The primary's typed configuration: defaults < QUOTIENT_CONFIG file < environment < flags.
 */
import net from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { loadConfig, portSchema } from '../common/config-loader';
import { MIN_SECRET_LENGTH } from './cluster/cluster-secret';

export const primaryConfigSchema = z
  .object({
    dataDir: z.string().min(1).default('./data'),
    httpHost: z.string().min(1).default('0.0.0.0'),
    httpPort: portSchema.default(9191),
    /**
     * Reverse proxies in front of the HTTP server whose X-Forwarded-For (the client's address) and
     * X-Forwarded-Proto are believed: addresses, CIDR ranges, or loopback / linklocal /
     * uniquelocal. A list in the file, comma-separated in the environment. Empty: none.
     */
    trustedProxies: z
      .preprocess(
        (v) =>
          typeof v === 'string'
            ? v
                .split(',')
                .map((x) => x.trim())
                .filter((x) => x !== '')
            : v,
        z
          .array(
            z.string().refine(isProxyAddress, {
              error: (issue) => `${String(issue.input)} is not an IP address, a CIDR range (10.0.0.0/8, fd00::/8) or one of ${PROXY_NAMES.join(', ')}`,
            }),
          )
          .max(100),
      )
      .default([]),
    grpcHost: z.string().min(1).default('0.0.0.0'),
    grpcPort: portSchema.default(9192),
    /** Empty means SQLite in the data directory. */
    databaseUrl: z.string().default(''),
    /** Username of the administrator created on first start. */
    adminUsername: z.string().min(1).max(64).default('admin'),
    /** Password for that administrator; when empty a random one is generated and printed once. */
    adminPassword: z.string().default(''),
    /** Shared with the secondaries; empty: generated once into <dataDir>/cluster-secret. Held to the secondaries' rule. */
    clusterSecret: z
      .string()
      .refine((s) => s === '' || s.length >= MIN_SECRET_LENGTH, `must be at least ${MIN_SECRET_LENGTH} characters (or unset, to generate one)`)
      .refine((s) => s === '' || /^[\x21-\x7e]+$/.test(s), 'must be printable ASCII without spaces (it travels in gRPC metadata)')
      .default(''),
    /** Server certificate and key (PEM files): gRPC uses TLS when both are set. */
    grpcTlsCert: z.string().default(''),
    grpcTlsKey: z.string().default(''),
    /** CA (PEM) that signs secondaries' client certificates: when set, mutual TLS is required. */
    grpcTlsClientCa: z.string().default(''),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Seconds the graceful shutdown waits for in-flight work before forcing. */
    shutdownGraceSeconds: z.coerce.number().min(0).max(600).default(10),
    /** IANA time zone quota schedules run in; default: the system's. */
    timezone: z
      .string()
      .min(1)
      .refine((tz) => isTimeZone(tz), 'is not a known IANA time zone, e.g. Europe/London')
      .default(() => Intl.DateTimeFormat().resolvedOptions().timeZone),
    /** How many days back a starting primary catches up missed quota periods; older ones are skipped and recorded. */
    quotaCatchUpDays: z.coerce.number().int().min(0).max(366).default(7),
  })
  .strict();

/** Names express (proxy-addr) knows for address ranges. */
const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/** An IPv4/IPv6 address, a CIDR range of one, or a named range. */
export function isProxyAddress(value: string): boolean {
  if (PROXY_NAMES.includes(value)) return true;
  const [address = '', prefix, ...rest] = value.split('/');
  const version = net.isIP(address);
  if (version === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128);
}

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export type PrimaryConfig = z.output<typeof primaryConfigSchema>;
type Key = keyof z.input<typeof primaryConfigSchema>;

export const PRIMARY_ENV: Partial<Record<Key, string>> = {
  dataDir: 'QUOTIENT_DATA_DIR',
  httpHost: 'QUOTIENT_HTTP_HOST',
  httpPort: 'QUOTIENT_HTTP_PORT',
  trustedProxies: 'QUOTIENT_TRUSTED_PROXIES',
  grpcHost: 'QUOTIENT_GRPC_HOST',
  grpcPort: 'QUOTIENT_GRPC_PORT',
  databaseUrl: 'QUOTIENT_DATABASE_URL',
  adminUsername: 'QUOTIENT_ADMIN_USERNAME',
  adminPassword: 'QUOTIENT_ADMIN_PASSWORD',
  logLevel: 'QUOTIENT_LOG_LEVEL',
  clusterSecret: 'QUOTIENT_CLUSTER_SECRET',
  grpcTlsCert: 'QUOTIENT_GRPC_TLS_CERT',
  grpcTlsKey: 'QUOTIENT_GRPC_TLS_KEY',
  grpcTlsClientCa: 'QUOTIENT_GRPC_TLS_CLIENT_CA',
  timezone: 'QUOTIENT_TIMEZONE',
  quotaCatchUpDays: 'QUOTIENT_QUOTA_CATCH_UP_DAYS',
};

export function loadPrimaryConfig(
  opts: {
    file?: string | undefined;
    env?: NodeJS.ProcessEnv;
    flags?: Partial<Record<Key, unknown>>;
  } = {},
): PrimaryConfig {
  const env = opts.env ?? process.env;
  const config = loadConfig(primaryConfigSchema, {
    file: opts.file ?? env.QUOTIENT_CONFIG,
    env,
    envMap: PRIMARY_ENV,
    flags: opts.flags ?? {},
  });
  return { ...config, dataDir: path.resolve(config.dataDir) };
}
