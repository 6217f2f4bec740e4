#!/usr/bin/env node
/**
 * The `quotient` command: starts primaries and secondaries, and administers a primary's database.
 * It only dispatches: the secondary's commands live in secondary/, the primary's in primary/cli/.
 * They are loaded when needed: `quotient secondary` runs on small print and proxy servers and
 * loads none of the primary's modules (knex, express, the services), which keeps it under 80 MB.
 */
import { Command } from 'commander';
import { version } from '../package.json';

export async function buildProgram(argv: readonly string[] = process.argv): Promise<Command> {
  const program = new Command('quotient').description('Quotient: print and internet usage accounting').version(version).showHelpAfterError();
  const { secondaryCommand } = await import('../secondary/cli');
  const { installCupsBackendCommand } = await import('../secondary/print/cups/install');
  program.addCommand(installCupsBackendCommand());
  if (argv[2] === 'secondary') return program.addCommand(secondaryCommand());
  const { primaryCommand, administrativeCommands } = await import('../primary/cli');
  program.addCommand(primaryCommand()).addCommand(secondaryCommand());
  for (const command of administrativeCommands()) program.addCommand(command);
  return program;
}

if (require.main === module) {
  buildProgram()
    .then((program) => program.parseAsync(process.argv))
    .catch((err: unknown) => {
      console.error(`error: ${(err as Error).message}`);
      process.exit(1);
    });
}
