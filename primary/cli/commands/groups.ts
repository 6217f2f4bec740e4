/**
 * `quotient groups add|list|show|add-member|remove-member|set-rules`: groups, memberships and new-user rules.
 */
import { Command } from 'commander';
import { formatAmount, type CurrencyFormat } from '../../../common/money';
import { ValidationError } from '../../../common/errors';
import type { Group, NewUserRules } from '../../users/group-service';
import type { Services } from '../../services';
import { action, amountArg, cliActor, printTable, withDatabaseOptions, withServices, type DatabaseFlags } from '../context';

interface RuleFlags {
  initialCredit?: string;
  initialRestricted?: string;
  initialCreditLimit?: string;
}

async function rulesFrom(s: Services, flags: RuleFlags): Promise<Partial<NewUserRules>> {
  const rules: Partial<NewUserRules> = {};
  if (flags.initialCredit !== undefined) rules.initialCredit = (await amountArg(s, flags.initialCredit, 'initial credit')).amount;
  if (flags.initialCreditLimit !== undefined) {
    rules.initialCreditLimit = flags.initialCreditLimit === 'default' ? null : (await amountArg(s, flags.initialCreditLimit, 'initial credit limit')).amount;
  }
  if (flags.initialRestricted !== undefined) {
    const v = flags.initialRestricted.toLowerCase();
    if (!['yes', 'no', 'default'].includes(v)) throw new ValidationError('--initial-restricted takes yes, no or default');
    rules.initialRestricted = v === 'default' ? null : v === 'yes';
  }
  return rules;
}

const ruleOptions = (cmd: Command): Command =>
  cmd
    .option('--initial-credit <amount>', 'credit given to users created in this group, e.g. 5.00')
    .option('--initial-restricted <yes|no|default>', 'whether new users start restricted')
    .option('--initial-credit-limit <amount>', "overdraft for new users, or 'default'");

function describeRules(g: Group, c: CurrencyFormat): string {
  const restricted = g.initialRestricted === null ? 'site default' : g.initialRestricted ? 'yes' : 'no';
  const limit = g.initialCreditLimit === null ? 'site default' : formatAmount(g.initialCreditLimit, c);
  return `initial credit ${formatAmount(g.initialCredit, c)}, restricted: ${restricted}, credit limit: ${limit}`;
}

export function groupsCommand(): Command {
  const groups = new Command('groups').description('manage groups, memberships and new-user rules');

  const add = ruleOptions(new Command('add').description('create a group').argument('<name>').option('--description <text>'));
  withDatabaseOptions(add).action(
    action(async (name: string, flags: DatabaseFlags & RuleFlags & { description?: string }) => {
      await withServices(flags, async (s) => {
        const group = await s.groups.create(
          { name, ...(flags.description !== undefined && { description: flags.description }), ...(await rulesFrom(s, flags)) },
          cliActor(),
        );
        console.log(`created group ${group.name} (${describeRules(group, await s.settings.currency())})`);
      });
    }),
  );

  const list = new Command('list').description('list groups with member counts').option('--json', 'print as JSON');
  withDatabaseOptions(list).action(
    action(async (flags: DatabaseFlags & { json?: boolean }) => {
      await withServices(flags, async (s) => {
        const rows = await s.groups.list();
        if (flags.json) return console.log(JSON.stringify(rows, null, 2));
        const c = await s.settings.currency();
        printTable(
          ['NAME', 'MEMBERS', 'NEW-USER RULES'],
          rows.map((g) => [g.name, g.members, describeRules(g, c)]),
        );
      });
    }),
  );

  const show = new Command('show').description('show a group, its rules and members').argument('<name>').option('--json', 'print as JSON');
  withDatabaseOptions(show).action(
    action(async (name: string, flags: DatabaseFlags & { json?: boolean }) => {
      await withServices(flags, async (s) => {
        const group = await s.groups.get(name);
        const members = await s.groups.members(name);
        if (flags.json) return console.log(JSON.stringify({ ...group, memberNames: members }, null, 2));
        console.log(`group ${group.name}${group.description ? ` — ${group.description}` : ''}`);
        console.log(describeRules(group, await s.settings.currency()));
        console.log(`${members.length} member(s)${members.length ? `: ${members.join(', ')}` : ''}`);
      });
    }),
  );

  const addMember = new Command('add-member').description('add users to a group').argument('<group>').argument('<usernames...>');
  withDatabaseOptions(addMember).action(
    action(async (group: string, usernames: string[], flags: DatabaseFlags) => {
      await withServices(flags, async (s) => {
        const added = await s.groups.addMembers(group, usernames, cliActor());
        console.log(`added ${added} user(s) to ${group}${added < usernames.length ? ` (${usernames.length - added} already members)` : ''}`);
      });
    }),
  );

  const removeMember = new Command('remove-member').description('remove users from a group').argument('<group>').argument('<usernames...>');
  withDatabaseOptions(removeMember).action(
    action(async (group: string, usernames: string[], flags: DatabaseFlags) => {
      await withServices(flags, async (s) => {
        const removed = await s.groups.removeMembers(group, usernames, cliActor());
        console.log(`removed ${removed} user(s) from ${group}`);
      });
    }),
  );

  const setRules = ruleOptions(new Command('set-rules').description("change a group's new-user rules").argument('<name>'));
  withDatabaseOptions(setRules).action(
    action(async (name: string, flags: DatabaseFlags & RuleFlags) => {
      await withServices(flags, async (s) => {
        const rules = await rulesFrom(s, flags);
        if (Object.keys(rules).length === 0) throw new ValidationError('nothing to change: give at least one rule option (see --help)');
        const group = await s.groups.setRules(name, rules, cliActor());
        console.log(`group ${group.name}: ${describeRules(group, await s.settings.currency())}`);
      });
    }),
  );

  return groups.addCommand(add).addCommand(list).addCommand(show).addCommand(addMember).addCommand(removeMember).addCommand(setRules);
}
