/**
 * `quotient import-users <file.csv> [--update] [--dry-run]`: creates users from a CSV file
 * (format: docs/importing-users.md). Skipped lines go to stderr as `line N: reason`, then a
 * summary to stdout. Exit status 0 when every line was imported or updated (also for a file with
 * no user lines), 1 when any line was skipped or the file could not be used at all.
 */
import { Command } from 'commander';
import { ProgressBar } from '../../../common/progress';
import { importUsers, type ImportResult } from '../../users/csv-import';
import { action, cliActor, withDatabaseOptions, withServices, type DatabaseFlags } from '../context';

interface ImportFlags extends DatabaseFlags {
  update?: boolean;
  dryRun?: boolean;
}

function summaryOf(r: ImportResult): string {
  const upToDate = r.unchanged > 0 ? ` (${r.unchanged} already up to date)` : '';
  const line = `imported ${r.imported}, updated ${r.updated}, skipped ${r.skipped.length} of ${r.total} lines${upToDate}`;
  return r.dryRun ? `dry run, nothing written: ${line}` : line;
}

export function importUsersCommand(): Command {
  const cmd = new Command('import-users')
    .description('create users from a CSV file with a header row (see docs/importing-users.md)')
    .argument(
      '<file>',
      'UTF-8 CSV file; columns: username (required), full_name, email, department, office, card, groups, initial_credit, restricted, credit_limit, password',
    )
    .option('--update', 'also update users that already exist: details, restricted, credit limit, added groups and cards (never balance or password)')
    .option('--dry-run', 'check every line against the file and the database, and write nothing');
  withDatabaseOptions(cmd).action(
    action(async (file: string, flags: ImportFlags) => {
      await withServices(flags, async (s) => {
        let bar: ProgressBar | undefined;
        let result: ImportResult;
        try {
          result = await importUsers(s, file, {
            actor: cliActor(),
            ...(flags.update && { update: true }),
            ...(flags.dryRun && { dryRun: true }),
            onProgress: (done, total) => {
              if (total === 0) return;
              bar ??= new ProgressBar(total);
              bar.update(done, total);
            },
          });
        } finally {
          bar?.finish();
        }
        if (result.total === 0) {
          console.log(`nothing to import: ${file} has a header row but no user lines`);
          return;
        }
        for (const { line, reason } of result.skipped) console.error(`line ${line}: ${reason}`);
        console.log(summaryOf(result));
        if (result.skipped.length > 0) process.exitCode = 1;
      });
    }),
  );
  return cmd;
}
