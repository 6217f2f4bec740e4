#!/usr/bin/env node
/**
 * The `quotient` command: starts servers and administers a primary's database. Command modules
 * are loaded when needed: `quotient secondary` runs on small print and proxy servers and loads
 * none of the primary's modules (knex, express, the services), which keeps it under 80 MB.
 */
import { Command } from 'commander';
import { version } from '../../package.json';

export async function buildProgram(argv: readonly string[] = process.argv): Promise<Command> {
  const program = new Command('quotient').description('Quotient: print and internet usage accounting').version(version).showHelpAfterError();
  const { secondaryCommand } = await import('../../secondary/cli');
  const { installCupsBackendCommand } = await import('../../secondary/print/cups/install');
  program.addCommand(installCupsBackendCommand());
  if (argv[2] === 'secondary') return program.addCommand(secondaryCommand());
  const [primary, migrate, users, groups, balance, importUsers, settings, secondaries, verify] = await Promise.all([
    import('./commands/primary'),
    import('./commands/migrate'),
    import('./commands/users'),
    import('./commands/groups'),
    import('./commands/balance'),
    import('./commands/import-users'),
    import('./commands/settings'),
    import('./commands/secondaries'),
    import('./commands/verify'),
  ]);
  return program
    .addCommand(primary.primaryCommand())
    .addCommand(secondaryCommand())
    .addCommand(migrate.migrateCommand())
    .addCommand(users.usersCommand())
    .addCommand(groups.groupsCommand())
    .addCommand(balance.balanceCommand())
    .addCommand(importUsers.importUsersCommand())
    .addCommand(settings.settingsCommand())
    .addCommand(secondaries.secondariesCommand())
    .addCommand(verify.verifyCommand())
    .addCommand((await import('./commands/quotas')).quotasCommand())
    .addCommand((await import('./commands/printers')).printersCommand())
    .addCommand((await import('./commands/internet')).internetCommand())
    .addCommand((await import('./commands/rate-cards')).rateCardsCommand());
}

if (require.main === module) {
  buildProgram()
    .then((program) => program.parseAsync(process.argv))
    .catch((err: unknown) => {
      console.error(`error: ${(err as Error).message}`);
      process.exit(1);
    });
}
