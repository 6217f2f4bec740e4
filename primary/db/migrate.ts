/**
 * Runs the schema migrations. They are listed here explicitly (not found by scanning a folder) so
 * the same list works from TypeScript sources and from the compiled dist/.
 */
import type { Knex } from 'knex';
import type { Database } from './connection';
import * as core0001 from './migrations/2026-11-22-0001-core';
import * as cluster0002 from './migrations/2026-11-22-0002-cluster';
import * as quotas0003 from './migrations/2026-11-22-0003-quotas';
import * as web0004 from './migrations/2026-11-22-0004-web';
import * as internet0005 from './migrations/2026-11-22-0005-internet';
import * as rateCardVersion0006 from './migrations/2026-12-02-0006-rate-card-version';
import * as jobExpiry0007 from './migrations/2026-12-07-0007-job-expiry';
import * as unknownPageCount0008 from './migrations/2026-12-07-0008-unknown-page-count';
import * as userLanguage0009 from './migrations/2026-12-07-0009-user-language';
import * as sharedAccounts0010 from './migrations/2026-12-07-0010-shared-accounts';
import * as topupCards0011 from './migrations/2026-12-07-0011-topup-cards';
import * as allocationAccounts0012 from './migrations/2026-12-07-0012-allocation-accounts';
import * as apiClients0013 from './migrations/2026-12-07-0013-api-clients';

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

export const MIGRATIONS: ReadonlyArray<readonly [string, Migration]> = [
  ['2026-11-22-0001-core', core0001],
  ['2026-11-22-0002-cluster', cluster0002],
  ['2026-11-22-0003-quotas', quotas0003],
  ['2026-11-22-0004-web', web0004],
  ['2026-11-22-0005-internet', internet0005],
  ['2026-12-02-0006-rate-card-version', rateCardVersion0006],
  ['2026-12-07-0007-job-expiry', jobExpiry0007],
  ['2026-12-07-0008-unknown-page-count', unknownPageCount0008],
  ['2026-12-07-0009-user-language', userLanguage0009],
  ['2026-12-07-0010-shared-accounts', sharedAccounts0010],
  ['2026-12-07-0011-topup-cards', topupCards0011],
  ['2026-12-07-0012-allocation-accounts', allocationAccounts0012],
  ['2026-12-07-0013-api-clients', apiClients0013],
];

const source: Knex.MigrationSource<readonly [string, Migration]> = {
  getMigrations: () => Promise.resolve([...MIGRATIONS]),
  getMigrationName: (m) => m[0],
  getMigration: (m) => Promise.resolve(m[1]),
};

const config: Knex.MigratorConfig = { migrationSource: source, tableName: 'knex_migrations' };

/** Applies every pending migration; returns the names applied. */
export async function migrateLatest(db: Database): Promise<string[]> {
  const [, applied] = (await db.knex.migrate.latest(config)) as [number, string[]];
  return applied;
}

export async function migrationStatus(db: Database): Promise<{ applied: string[]; pending: string[] }> {
  const [done, pending] = (await db.knex.migrate.list(config)) as [{ name: string }[], (readonly [string, Migration])[]];
  return { applied: done.map((m) => m.name), pending: pending.map((m) => m[0]) };
}

/** Drops everything the migrations made (tests and `quotient migrate --rollback-all` only). */
export async function rollbackAll(db: Database): Promise<void> {
  await db.knex.migrate.rollback(config, true);
}
