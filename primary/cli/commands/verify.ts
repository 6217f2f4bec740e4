/**
 * `quotient verify`: proves every balance equals the sum of its ledger; exits 1 otherwise.
 */
import { Command } from 'commander';
import { action, withDatabaseOptions, withServices } from '../context';

export function verifyCommand(): Command {
  const cmd = new Command('verify').description('check that every balance equals the sum of its ledger rows (exit 0 only if so)').option('--json', 'print the result as JSON');
  withDatabaseOptions(cmd).action(
    action(async (flags: Record<string, string | boolean | undefined>) => {
      await withServices(flags as Record<string, string>, async (s) => {
        const result = await s.ledger.verify();
        if (flags.json) {
          console.log(JSON.stringify(result, null, 2));
        } else {
          for (const p of result.problems) console.log(`MISMATCH account ${p.accountId} (${p.name}): ${p.problem}`);
          console.log(`${result.accounts} accounts, ${result.ledgerRows} ledger rows: ${result.problems.length === 0 ? 'OK' : `${result.problems.length} problem(s)`}`);
        }
        if (result.problems.length > 0) process.exitCode = 1;
      });
    }),
  );
  return cmd;
}
