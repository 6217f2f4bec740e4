/**
 * The primary's commands, in the order `quotient --help` lists them: `primary` (the server) and
 * the administrative commands that work on a primary's database. cli/main.ts loads this module
 * only when the command line is not `quotient secondary`.
 */
import type { Command } from 'commander';
import { accountsCommand } from './commands/accounts';
import { apiClientsCommand } from './commands/api-clients';
import { balanceCommand } from './commands/balance';
import { cardsCommand } from './commands/cards';
import { groupsCommand } from './commands/groups';
import { importUsersCommand } from './commands/import-users';
import { internetCommand } from './commands/internet';
import { migrateCommand } from './commands/migrate';
import { primaryCommand } from './commands/primary';
import { printersCommand } from './commands/printers';
import { quotasCommand } from './commands/quotas';
import { rateCardsCommand } from './commands/rate-cards';
import { secondariesCommand } from './commands/secondaries';
import { settingsCommand } from './commands/settings';
import { usersCommand } from './commands/users';
import { verifyCommand } from './commands/verify';

export { primaryCommand };

/** The commands that administer a primary's database (everything but `primary` itself). */
export function administrativeCommands(): Command[] {
  return [
    migrateCommand(),
    usersCommand(),
    groupsCommand(),
    balanceCommand(),
    accountsCommand(),
    importUsersCommand(),
    settingsCommand(),
    secondariesCommand(),
    verifyCommand(),
    quotasCommand(),
    printersCommand(),
    internetCommand(),
    rateCardsCommand(),
    cardsCommand(),
    apiClientsCommand(),
  ];
}
