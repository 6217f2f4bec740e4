/**
 * `quotient balance adjust|set`: an administrator's balance changes, each a ledger row with a
 * comment and an audit row (actor `cli:<os user>`), through BalanceChanges as the admin pages do.
 */
import { Command } from 'commander';
import { balanceChangeCommand } from '../balance-change';

function balanceSubcommand(name: 'adjust' | 'set'): Command {
  return balanceChangeCommand({
    name,
    kind: name,
    description: name === 'adjust' ? "add to (or, with a negative amount, take from) a user's balance" : "set a user's balance to an amount",
    target: 'username',
    owner: async (s, username) => ({ userId: (await s.users.getByUsername(username)).id }),
    amountHelp: name === 'adjust' ? 'signed amount, e.g. 5.00 or -2.50' : 'new balance, e.g. 10.00',
  });
}

export function balanceCommand(): Command {
  return new Command('balance').description("change users' balances").addCommand(balanceSubcommand('adjust')).addCommand(balanceSubcommand('set'));
}
