/**
 * `quotient balance adjust|set`: an administrator's balance changes, each a ledger row with a
 * comment and an audit row (actor `cli:<os user>`), through BalanceChanges as the admin pages do.
 */
import crypto from 'node:crypto';
import { Command } from 'commander';
import { formatAmount } from '../../../common/money';
import { action, amountArg, cliActor, withDatabaseOptions, withServices, type DatabaseFlags } from '../context';

interface BalanceFlags extends DatabaseFlags {
  comment: string;
  key?: string;
}

function balanceSubcommand(name: 'adjust' | 'set'): Command {
  const cmd = new Command(name)
    .description(name === 'adjust' ? "add to (or, with a negative amount, take from) a user's balance" : "set a user's balance to an amount")
    .argument('<username>')
    .argument('<amount>', name === 'adjust' ? 'signed amount, e.g. 5.00 or -2.50' : 'new balance, e.g. 10.00')
    .requiredOption('--comment <text>', 'why (kept in the ledger)')
    .option('--key <key>', 'idempotency key: repeating the command with the same key changes nothing');
  withDatabaseOptions(cmd).action(
    action(async (username: string, amountText: string, flags: BalanceFlags) => {
      await withServices(flags, async (s) => {
        const user = await s.users.getByUsername(username);
        const { amount, currency } = await amountArg(s, amountText, 'amount');
        const change = { userId: user.id, key: flags.key ?? `cli:${crypto.randomUUID()}`, actor: cliActor(), comment: flags.comment };
        const { entry } = name === 'adjust' ? await s.balances.adjust({ ...change, amount }) : await s.balances.set({ ...change, balance: amount });
        const note = entry.replayed ? ' (already applied with this key; nothing changed)' : '';
        console.log(`${user.username}: ${formatAmount(entry.amount, currency)} → balance ${formatAmount(entry.balanceAfter, currency)}${note}`);
      });
    }),
  );
  return cmd;
}

export function balanceCommand(): Command {
  return new Command('balance').description("change users' balances").addCommand(balanceSubcommand('adjust')).addCommand(balanceSubcommand('set'));
}
