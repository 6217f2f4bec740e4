/**
 * `quotient verify`: proves every balance equals the sum of its ledger, and reports print
 * authorisations held longer than `printing.authorisationTimeout` (the expiry job releases them
 * within a minute of the timeout while a primary runs, so one that is older says it does not).
 * Exits 1 when either is found.
 */
import { Command } from 'commander';
import { formatAmount } from '../../../common/money';
import { findStaleAuthorisations } from '../../printing/authorisation-expiry';
import { action, withDatabaseOptions, withServices } from '../context';

/** Stale holds listed one by one; beyond this only counted. */
const LISTED = 50;

export function verifyCommand(): Command {
  const cmd = new Command('verify')
    .description('check that every balance equals the sum of its ledger rows and that no print authorisation is held past its timeout (exit 0 only if so)')
    .option('--json', 'print the result as JSON');
  withDatabaseOptions(cmd).action(
    action(async (flags: Record<string, string | boolean | undefined>) => {
      await withServices(flags as Record<string, string>, async (s) => {
        const result = await s.ledger.verify();
        const stale = await findStaleAuthorisations({ db: s.db, settings: s.settings });
        const timeoutSeconds = await s.settings.get('printing.authorisationTimeout');
        if (flags.json) {
          console.log(JSON.stringify({ ...result, authorisationTimeoutSeconds: timeoutSeconds, staleAuthorisations: stale }, null, 2));
        } else {
          for (const p of result.problems) console.log(`MISMATCH account ${p.accountId} (${p.name}): ${p.problem}`);
          const currency = await s.settings.currency();
          for (const h of stale.slice(0, LISTED)) {
            console.log(
              `STALE HOLD job ${h.jobId} (${h.username}, secondary ${h.secondary || '?'}): ${formatAmount(h.held, currency)} held since ${new Date(h.authorisedAt).toISOString()}, past printing.authorisationTimeout (${timeoutSeconds} s)`,
            );
          }
          if (stale.length > LISTED) console.log(`... and ${stale.length - LISTED} more stale holds`);
          const findings = [
            result.problems.length > 0 ? `${result.problems.length} problem(s)` : '',
            stale.length > 0 ? `${stale.length} authorisation(s) held past the timeout` : '',
          ].filter(Boolean);
          console.log(`${result.accounts} accounts, ${result.ledgerRows} ledger rows: ${findings.length === 0 ? 'OK' : findings.join(', ')}`);
        }
        if (result.problems.length > 0 || stale.length > 0) process.exitCode = 1;
      });
    }),
  );
  return cmd;
}
