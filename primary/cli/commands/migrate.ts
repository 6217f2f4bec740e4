/**
 * `quotient migrate`: brings the database schema up to date, or shows its status.
 */
import { Command } from 'commander';
import { createLogger } from '../../../common/logger';
import { openDatabase } from '../../db/connection';
import { translateConnectionError } from '../../db/errors';
import { migrateLatest, migrationStatus } from '../../db/migrate';
import { action, configFromFlags, withDatabaseOptions } from '../context';

export function migrateCommand(): Command {
  const cmd = new Command('migrate')
    .description('apply pending database migrations')
    .option('--status', 'list applied and pending migrations without changing anything');
  withDatabaseOptions(cmd).action(
    action(async (flags: Record<string, string | boolean | undefined>) => {
      const config = configFromFlags(flags as Record<string, string | undefined>);
      createLogger('quotient-cli');
      const db = openDatabase(config.databaseUrl, config.dataDir);
      try {
        if (flags.status) {
          const status = await migrationStatus(db).catch((err: unknown) => Promise.reject(translateConnectionError(err, db.description)));
          for (const name of status.applied) console.log(`applied  ${name}`);
          for (const name of status.pending) console.log(`pending  ${name}`);
          return;
        }
        const applied = await migrateLatest(db).catch((err: unknown) => Promise.reject(translateConnectionError(err, db.description)));
        console.log(applied.length === 0 ? `${db.description}: already up to date` : `${db.description}: applied ${applied.join(', ')}`);
      } finally {
        await db.close();
      }
    }),
  );
  return cmd;
}
