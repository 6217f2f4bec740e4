#!/usr/bin/env node
/**
 * The `quotient` command: starts servers and administers a primary's database.
 */
import { Command } from 'commander';
import { balanceCommand } from './commands/balance';
import { groupsCommand } from './commands/groups';
import { importUsersCommand } from './commands/import-users';
import { migrateCommand } from './commands/migrate';
import { primaryCommand } from './commands/primary';
import { secondariesCommand } from './commands/secondaries';
import { settingsCommand } from './commands/settings';
import { usersCommand } from './commands/users';
import { verifyCommand } from './commands/verify';
import { version } from '../../package.json';

export function buildProgram(): Command {
  return new Command('quotient')
    .description('Quotient: print and internet usage accounting')
    .version(version)
    .showHelpAfterError()
    .addCommand(primaryCommand())
    .addCommand(migrateCommand())
    .addCommand(usersCommand())
    .addCommand(groupsCommand())
    .addCommand(balanceCommand())
    .addCommand(importUsersCommand())
    .addCommand(settingsCommand())
    .addCommand(secondariesCommand())
    .addCommand(verifyCommand());
}

if (require.main === module) {
  buildProgram().parseAsync(process.argv).catch((err: unknown) => {
    console.error(`error: ${(err as Error).message}`);
    process.exit(1);
  });
}
