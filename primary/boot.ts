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
import { createHttpApp } from './http/app';
import { createServices, type Services } from './services';
import { resolveClusterSecret } from './cluster/cluster-secret';
import { BlockWatcher } from './cluster/block-watcher';
import { SecondaryRegistry } from './cluster/secondary-registry';
import { startGrpcServer } from './grpc/server';
import { generatePassword } from './users/passwords';
import { schedule as scheduleQuotas } from './quotas/quota-job';
import { schedule as scheduleAuthorisationExpiry } from './printing/authorisation-expiry';

export interface RunningPrimary {
  services: Services;
  secondaries: SecondaryRegistry;
  httpPort: number;
  grpcPort: number;
  shutdown(reason?: string): Promise<void>;
}

/** Opens the database named by the config and brings its schema up to date. */
export async function openPrimaryDatabase(config: PrimaryConfig, logger: Logger): Promise<Database> {
  fs.mkdirSync(config.dataDir, { recursive: true });
  const db = openDatabase(config.databaseUrl, config.dataDir);
  try {
    await db.knex.raw('select 1');
    const applied = await migrateLatest(db);
    if (applied.length > 0) logger.info({ applied }, 'database migrated');
  } catch (err) {
    await db.close().catch(() => undefined);
    throw translateConnectionError(err, db.description);
  }
  return db;
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

export async function startPrimary(config: PrimaryConfig, logger: Logger, print: (line: string) => void = console.log): Promise<RunningPrimary> {
  const db = await openPrimaryDatabase(config, logger);
  const services = createServices(db, { timezone: config.timezone, quotaCatchUpDays: config.quotaCatchUpDays });
  await ensureFirstAdmin(services, config, print);

  const secondaries = new SecondaryRegistry({ db, printers: services.printers });
  const { secret, file: secretFile } = resolveClusterSecret(config.clusterSecret, config.dataDir);
  if (secretFile) logger.info({ file: secretFile }, 'cluster secret for secondaries (QUOTIENT_CLUSTER_SECRET) is in this file');

  const app = createHttpApp(services, logger, { secondaries });
  const server = http.createServer(app);
  const blocks = new BlockWatcher({ db, settings: services.settings, logger });
  const started: { grpc?: Awaited<ReturnType<typeof startGrpcServer>> } = {};
  try {
    await blocks.start();
    started.grpc = await startGrpcServer({ config, services, registry: secondaries, blocks, secret, logger });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.httpPort, config.httpHost, () => resolve());
    });
  } catch (err) {
    blocks.stop();
    await started.grpc?.stop(0);
    await db.close();
    throw err;
  }
  const grpc = started.grpc;
  const quotaJob = scheduleQuotas({ quotas: services.quotas, logger });
  const expiryJob = scheduleAuthorisationExpiry({ db, printing: services.printing, settings: services.settings, logger });
  const httpPort = (server.address() as AddressInfo).port;
  logger.info(
    { http: `${config.httpHost}:${httpPort}`, grpc: `${config.grpcHost}:${grpc.port}`, tls: Boolean(config.grpcTlsCert), database: db.description, dataDir: config.dataDir },
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
  return { services, secondaries, httpPort, grpcPort: grpc.port, shutdown };
}
