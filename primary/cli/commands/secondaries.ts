/**
 * `quotient secondaries`: the secondaries registered with this primary and their health.
 */
import { Command } from 'commander';
import { SecondaryRegistry } from '../../cluster/secondary-registry';
import { action, printTable, withDatabaseOptions, withServices, type DatabaseFlags } from '../context';

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  return `${Math.round(s / 3600)}h ago`;
}

export function secondariesCommand(): Command {
  const cmd = new Command('secondaries').description('list the secondaries registered with this primary').option('--json', 'print as JSON');
  withDatabaseOptions(cmd).action(
    action(async (flags: DatabaseFlags & { json?: boolean }) => {
      await withServices(flags, async (s) => {
        const rows = await new SecondaryRegistry({ db: s.db, printers: s.printers }).list();
        if (flags.json) return console.log(JSON.stringify(rows, null, 2));
        if (rows.length === 0) return console.log('no secondaries have registered');
        const now = Date.now();
        printTable(
          ['NAME', 'ROLE', 'STATE', 'LAST SEEN', 'OUTBOX', 'DEAD LETTERS', 'VERSION', 'HOST', 'ADDRESS'],
          rows.map((r) => [r.name, r.role, r.state, ago(now - r.lastSeenAt), r.outboxDepth, r.deadLetters, r.version, r.host, r.address]),
        );
        // Events the primary refused for good: their money is released, but someone should look.
        for (const r of rows) if (r.deadLetters > 0) console.log(`${r.name}: ${r.deadLetters} dead letter(s); newest: ${r.lastDeadLetter}`);
      });
    }),
  );
  return cmd;
}
