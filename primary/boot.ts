/**
 * Starts a primary: opens and migrates the database, makes sure an administrator exists, serves
 * HTTP, and owns the one idempotent shutdown path for everything it started.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../common/logger';
import { openDatabase, type Database } from './db/connection';
import { translateConnectionError } from './db/errors';
import { migrateLatest } from './db/migrate';
import type { PrimaryConfig } from './config';
import { checkPrimaryConfig } from './config-checks';
import { createHttpApp } from './http/app';
import { createServices, type Services } from './services';
import { resolveClusterSecret } from './cluster/cluster-secret';
import { BlockWatcher } from './cluster/block-watcher';
import { SecondaryRegistry } from './cluster/secondary-registry';
import { startGrpcServer } from './grpc/server';
import { generatePassword } from './users/passwords';
import { schedule as scheduleQuotas } from './quotas/quota-job';
import { schedule as scheduleAuthorisationExpiry } from './printing/authorisation-expiry';
import type { Sleep } from '../web-tools/middleware/web-auth';

export interface RunningPrimary {
  services: Services;
  secondaries: SecondaryRegistry;
  httpPort: number;
  grpcPort: number;
  shutdown(reason?: string): Promise<void>;
  /**
   * For tests that keep one primary while emptying its tables between tests: forgets what it
   * remembered of them (settings, printers, registered secondaries, blocked users) and creates the
   * first administrator again, so each test meets it as freshly started.
   */
  tablesEmptied(): Promise<void>;
}

/**
 * Opens the database named by the config and brings its schema up to date. An abort while it
 * waits for the database server (e.g. SIGTERM during start-up) gives up the wait at once; a
 * migration that has begun runs to its end, so no schema is left half-changed.
 */
export async function openPrimaryDatabase(config: PrimaryConfig, logger: Logger, signal?: AbortSignal): Promise<Database> {
  signal?.throwIfAborted();
  fs.mkdirSync(config.dataDir, { recursive: true });
  const db = openDatabase(config.databaseUrl, config.dataDir);
  try {
    await abortable(db.knex.raw('select 1'), signal);
    const applied = await migrateLatest(db);
    if (applied.length > 0) logger.info({ applied }, 'database migrated');
    signal?.throwIfAborted();
  } catch (err) {
    // Aborted: closing waits for the connection attempt under way, so it is not waited for.
    const closed = db.close().catch(() => undefined);
    if (signal?.aborted) throw signal.reason;
    await closed;
    throw translateConnectionError(err, db.description);
  }
  return db;
}

/** `work`, or the signal's reason as soon as it aborts (the work itself is left to fail or finish). */
function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Creates the first administrator when there is none. The password comes from the config
 * (QUOTIENT_ADMIN_PASSWORD) or is generated and printed once, on this first start only.
 */
export async function ensureFirstAdmin(services: Services, config: PrimaryConfig, print: (line: string) => void): Promise<void> {
  const existing = await services.db.knex('users').where({ is_admin: true }).first('id');
  if (existing) return;
  const password = config.adminPassword || generatePassword();
  await services.users.createUser(
    { username: config.adminUsername, fullName: 'Administrator', isAdmin: true, password, restricted: false },
    'system:first-start',
  );
  if (config.adminPassword) {
    print(`Created administrator "${config.adminUsername}" with the password from the configuration.`);
  } else {
    print(`Created administrator "${config.adminUsername}" with password: ${password}`);
    print('This password is shown only once. Change it after signing in.');
  }
}

/** How a start is steered: an abort during start-up, and what tests may replace (nothing a deployment sets). */
export interface StartOptions {
  /** SIGTERM during start-up: stops the start-up between steps. */
  signal?: AbortSignal;
  /** How a sign-in waits out its address's delay: tests record the delay instead of waiting. */
  signinSleep?: Sleep;
}

/**
 * Starts everything, in an order that fails early: the whole configuration is checked before
 * anything is created (config-checks.ts), the cluster secret is settled before the database is
 * opened, and any failure later closes what was started before it is thrown, so the caller can
 * exit at once.
 */
export async function startPrimary(
  config: PrimaryConfig,
  logger: Logger,
  print: (line: string) => void = console.log,
  opts: StartOptions = {},
): Promise<RunningPrimary> {
  const { signal } = opts;
  checkPrimaryConfig(config);
  signal?.throwIfAborted();
  fs.mkdirSync(config.dataDir, { recursive: true });
  const { secret, file: secretFile } = resolveClusterSecret(config.clusterSecret, config.dataDir);
  const db = await openPrimaryDatabase(config, logger, signal);
  const started: { grpc?: Awaited<ReturnType<typeof startGrpcServer>>; blocks?: BlockWatcher } = {};
  const server = http.createServer();
  try {
    const services = createServices(db, { timezone: config.timezone, quotaCatchUpDays: config.quotaCatchUpDays });
    await ensureFirstAdmin(services, config, print);
    if (secretFile) logger.info({ file: secretFile }, 'cluster secret for secondaries (QUOTIENT_CLUSTER_SECRET) is in this file');
    signal?.throwIfAborted();

    const secondaries = new SecondaryRegistry({ db, printers: services.printers });
    server.on('request', createHttpApp(services, logger, { secondaries, trustedProxies: config.trustedProxies, signinSleep: opts.signinSleep }));
    const blocks = new BlockWatcher({ db, settings: services.settings, logger });
    started.blocks = blocks;
    await blocks.start();
    started.grpc = await startGrpcServer({ config, services, registry: secondaries, blocks, secret, logger });
    signal?.throwIfAborted();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.httpPort, config.httpHost, () => resolve());
    });
    signal?.throwIfAborted();
    return running(config, logger, { db, services, secondaries, blocks, grpc: started.grpc, server });
  } catch (err) {
    started.blocks?.stop();
    await started.grpc?.stop(0);
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    await db.close();
    throw err;
  }
}

/** The started primary: its quota and authorisation-expiry schedules, and the one idempotent shutdown of everything. */
function running(
  config: PrimaryConfig,
  logger: Logger,
  parts: {
    db: Database;
    services: Services;
    secondaries: SecondaryRegistry;
    blocks: BlockWatcher;
    grpc: Awaited<ReturnType<typeof startGrpcServer>>;
    server: http.Server;
  },
): RunningPrimary {
  const { db, services, secondaries, blocks, grpc, server } = parts;
  const quotaJob = scheduleQuotas({ quotas: services.quotas, logger });
  const expiryJob = scheduleAuthorisationExpiry({ db, printing: services.printing, settings: services.settings, logger });
  const httpPort = (server.address() as AddressInfo).port;
  logger.info(
    {
      http: `${config.httpHost}:${httpPort}`,
      grpc: `${config.grpcHost}:${grpc.port}`,
      tls: Boolean(config.grpcTlsCert),
      database: db.description,
      dataDir: config.dataDir,
    },
    'primary started',
  );

  let stopping: Promise<void> | undefined;
  const shutdown = (reason = 'shutdown'): Promise<void> => {
    stopping ??= (async () => {
      logger.info({ reason }, 'primary stopping');
      await Promise.all([quotaJob.stop(), expiryJob.stop()]);
      const graceMs = config.shutdownGraceSeconds * 1000;
      const forced = setTimeout(() => server.closeAllConnections(), graceMs);
      forced.unref();
      server.closeIdleConnections();
      await Promise.all([new Promise<void>((resolve) => server.close(() => resolve())), grpc.stop(graceMs)]);
      clearTimeout(forced);
      blocks.stop();
      await db.close();
      logger.info('primary stopped');
    })();
    return stopping;
  };
  const tablesEmptied = async (): Promise<void> => {
    services.settings.forget();
    services.printers.forgetPrinters();
    secondaries.forgetRegistered();
    blocks.stop();
    await blocks.start();
    await ensureFirstAdmin(services, config, () => undefined);
  };
  return { services, secondaries, httpPort, grpcPort: grpc.port, shutdown, tablesEmptied };
}
