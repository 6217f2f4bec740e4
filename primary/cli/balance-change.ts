/**
 * The shape `quotient balance adjust|set` and `quotient accounts adjust|set-balance` share: an
 * owner (a user or a shared account) and an amount, a required comment and an optional
 * idempotency key, one BalanceChanges call, and the line saying what moved.
 */
import crypto from 'node:crypto';
import { Command } from 'commander';
import { formatAmount } from '../../common/money';
import type { BalanceChange } from '../ledger/balance-changes';
import type { Services } from '../services';
import { action, amountArg, cliActor, withDatabaseOptions, withServices, type DatabaseFlags } from './context';

type Owner = { userId: number } | { accountId: number };

export interface BalanceChangeSpec {
  /** The subcommand's name (`adjust`, `set`, `set-balance`) and which change it makes. */
  name: string;
  kind: 'adjust' | 'set';
  description: string;
  /** The first argument: whose balance (`username`, `name`), and how to find its owner. */
  target: string;
  owner: (s: Services, text: string) => Promise<Owner>;
  amountHelp: string;
}

export function balanceChangeCommand(spec: BalanceChangeSpec): Command {
  const cmd = new Command(spec.name)
    .description(spec.description)
    .argument(`<${spec.target}>`)
    .argument('<amount>', spec.amountHelp)
    .requiredOption('--comment <text>', 'why (kept in the ledger)')
    .option('--key <key>', 'idempotency key: repeating the command with the same key changes nothing');
  withDatabaseOptions(cmd).action(
    action(async (target: string, amountText: string, flags: DatabaseFlags & { comment: string; key?: string }) => {
      await withServices(flags, async (s) => {
        const owner = await spec.owner(s, target);
        const { amount, currency } = await amountArg(s, amountText, 'amount');
        const change: BalanceChange = { ...owner, key: flags.key ?? `cli:${crypto.randomUUID()}`, actor: cliActor(), comment: flags.comment };
        const { name, entry } = spec.kind === 'adjust' ? await s.balances.adjust({ ...change, amount }) : await s.balances.set({ ...change, balance: amount });
        const note = entry.replayed ? ' (already applied with this key; nothing changed)' : '';
        console.log(`${name}: ${formatAmount(entry.amount, currency)} → balance ${formatAmount(entry.balanceAfter, currency)}${note}`);
      });
    }),
  );
  return cmd;
}
