/**
 * `quotient users add|list|show|set`: manage users and their personal accounts.
 */
import { Command, Option } from 'commander';
import { formatAmount } from '../../../common/money';
import { ValidationError } from '../../../common/errors';
import { LANGUAGES, isLanguage } from '../../users/languages';
import type { UserChanges } from '../../users/user-service';
import { action, amountArg, cliActor, printTable, withDatabaseOptions, withServices, type DatabaseFlags } from '../context';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

interface AddFlags extends DatabaseFlags {
  fullName?: string;
  email?: string;
  department?: string;
  office?: string;
  card?: string[];
  group?: string[];
  password?: string;
  admin?: boolean;
  restricted?: boolean;
  creditLimit?: string;
  initialCredit?: string;
  json?: boolean;
}

export function usersCommand(): Command {
  const users = new Command('users').description('manage users');

  const add = new Command('add')
    .description('create a user with a personal account (group new-user rules apply unless overridden)')
    .argument('<username>', 'login name (case-insensitive)')
    .option('--full-name <name>', 'full name')
    .option('--email <address>', 'email address')
    .option('--department <name>', 'department')
    .option('--office <name>', 'office')
    .option('--card <number>', 'card/ID number (repeatable)', collect)
    .option('--group <name>', 'add to this existing group (repeatable)', collect)
    .addOption(new Option('--password <password>', 'web tools password (at least 8 characters)').env('QUOTIENT_NEW_USER_PASSWORD'))
    .option('--admin', 'make the user an administrator')
    .option('--restricted', 'deny jobs that would take the balance below the credit limit')
    .option('--no-restricted', 'never deny; the balance may go negative')
    .option('--credit-limit <amount>', 'overdraft of a restricted user, e.g. 5.00 (default: the site default)')
    .option('--initial-credit <amount>', 'starting balance, e.g. 10.00 (default: site and group rules)')
    .option('--json', 'print the new user as JSON');
  withDatabaseOptions(add).action(
    action(async (username: string, flags: AddFlags) => {
      await withServices(flags, async (s) => {
        const creditLimit = flags.creditLimit !== undefined ? (await amountArg(s, flags.creditLimit, 'credit limit')).amount : undefined;
        const initialCredit = flags.initialCredit !== undefined ? (await amountArg(s, flags.initialCredit, 'initial credit')).amount : undefined;
        const user = await s.users.createUser(
          {
            username,
            ...(flags.fullName !== undefined && { fullName: flags.fullName }),
            ...(flags.email !== undefined && { email: flags.email }),
            ...(flags.department !== undefined && { department: flags.department }),
            ...(flags.office !== undefined && { office: flags.office }),
            ...(flags.card && { cards: flags.card }),
            ...(flags.group && { groups: flags.group }),
            ...(flags.password !== undefined && { password: flags.password }),
            ...(flags.admin && { isAdmin: true }),
            ...(flags.restricted !== undefined && { restricted: flags.restricted }),
            ...(creditLimit !== undefined && { creditLimit }),
            ...(initialCredit !== undefined && { initialCredit }),
          },
          cliActor(),
        );
        if (flags.json) console.log(JSON.stringify(user, null, 2));
        else
          console.log(
            `created user ${user.username} (balance ${formatAmount(user.account.balance, await s.settings.currency())}, ${user.account.restricted ? 'restricted' : 'unrestricted'})`,
          );
      });
    }),
  );

  const list = new Command('list')
    .description('list users with their balances')
    .option('--search <text>', 'match username, full name, email or department')
    .option('--group <name>', 'only members of this group')
    .option('--limit <n>', 'at most this many', '100')
    .option('--offset <n>', 'skip this many', '0')
    .option('--json', 'print as JSON');
  withDatabaseOptions(list).action(
    action(async (flags: DatabaseFlags & { search?: string; group?: string; limit: string; offset: string; json?: boolean }) => {
      const limit = Number(flags.limit);
      const offset = Number(flags.offset);
      if (!Number.isInteger(limit) || limit < 1) throw new ValidationError('--limit must be a positive integer');
      if (!Number.isInteger(offset) || offset < 0) throw new ValidationError('--offset must be a non-negative integer');
      await withServices(flags, async (s) => {
        const rows = await s.users.list({ limit, offset, ...(flags.search && { search: flags.search }), ...(flags.group && { group: flags.group }) });
        if (flags.json) return console.log(JSON.stringify(rows, null, 2));
        const currency = await s.settings.currency();
        printTable(
          ['USERNAME', 'FULL NAME', 'DEPARTMENT', 'BALANCE', 'RESTRICTED', 'DISABLED'],
          rows.map((u) => [u.username, u.fullName, u.department, formatAmount(u.balance, currency), u.restricted ? 'yes' : 'no', u.disabled ? 'yes' : 'no']),
        );
      });
    }),
  );

  const show = new Command('show')
    .description("show a user's details, balance and recent transactions")
    .argument('<username>')
    .option('--json', 'print as JSON');
  withDatabaseOptions(show).action(
    action(async (username: string, flags: DatabaseFlags & { json?: boolean }) => {
      await withServices(flags, async (s) => {
        const user = await s.users.getByUsername(username);
        const detail = await s.users.detail(user.id);
        const history = await s.ledger.history(detail.account.id, { limit: 10 });
        if (flags.json) return console.log(JSON.stringify({ ...detail, recentTransactions: history }, null, 2));
        const c = await s.settings.currency();
        const fields: [string, string][] = [
          ['username', detail.username],
          ['full name', detail.fullName],
          ['email', detail.email],
          ['department', detail.department],
          ['office', detail.office],
          ['source', detail.source],
          ['administrator', detail.isAdmin ? 'yes' : 'no'],
          ['disabled', detail.disabled ? 'yes' : 'no'],
          ['language', detail.language ?? "the browser's"],
          ['balance', formatAmount(detail.account.balance, c)],
          ['reserved', formatAmount(detail.account.reserved, c)],
          ['restricted', detail.account.restricted ? 'yes' : 'no'],
          ['credit limit', `${formatAmount(detail.effectiveCreditLimit, c)}${detail.account.creditLimit === null ? ' (site default)' : ''}`],
          ['groups', detail.groups.join(', ')],
          ['cards', detail.cards.join(', ')],
        ];
        for (const [k, v] of fields) console.log(`${k.padEnd(14)} ${v}`);
        if (history.length > 0) {
          console.log('\nrecent transactions:');
          printTable(
            ['TIME', 'TYPE', 'AMOUNT', 'BALANCE', 'COMMENT'],
            history.map((e) => [new Date(e.createdAt).toISOString(), e.type, formatAmount(e.amount, c), formatAmount(e.balanceAfter, c), e.comment]),
          );
        }
      });
    }),
  );

  const set = new Command('set')
    .description("change a user's details, restriction, credit limit or web tools language")
    .argument('<username>')
    .option('--full-name <name>')
    .option('--email <address>')
    .option('--department <name>')
    .option('--office <name>')
    .option('--restricted', 'deny jobs below the credit limit')
    .option('--no-restricted', 'never deny')
    .option('--credit-limit <amount>', "overdraft, e.g. 5.00, or 'default' for the site default")
    .option('--disabled', 'disable the user')
    .option('--no-disabled', 'enable the user')
    .option('--admin', 'make an administrator')
    .option('--no-admin', 'remove administrator rights')
    .addOption(
      new Option('--language <tag>', "the web tools' language for this user, or 'browser' for the browser's languages").choices([...LANGUAGES, 'browser']),
    )
    .addOption(new Option('--password <password>', 'new web tools password').env('QUOTIENT_NEW_USER_PASSWORD'));
  withDatabaseOptions(set).action(
    action(async (username: string, flags: DatabaseFlags & Record<string, string | boolean | undefined>) => {
      await withServices(flags, async (s) => {
        const user = await s.users.getByUsername(username);
        const changes: UserChanges = {};
        if (typeof flags.fullName === 'string') changes.fullName = flags.fullName;
        if (typeof flags.email === 'string') changes.email = flags.email;
        if (typeof flags.department === 'string') changes.department = flags.department;
        if (typeof flags.office === 'string') changes.office = flags.office;
        if (typeof flags.restricted === 'boolean') changes.restricted = flags.restricted;
        if (typeof flags.disabled === 'boolean') changes.disabled = flags.disabled;
        if (typeof flags.admin === 'boolean') changes.isAdmin = flags.admin;
        if (typeof flags.password === 'string') changes.password = flags.password;
        if (typeof flags.language === 'string') changes.language = isLanguage(flags.language) ? flags.language : null;
        if (typeof flags.creditLimit === 'string') {
          changes.creditLimit = flags.creditLimit === 'default' ? null : (await amountArg(s, flags.creditLimit, 'credit limit')).amount;
          if (changes.creditLimit !== null && changes.creditLimit < 0) throw new ValidationError('credit limit must not be negative');
        }
        if (Object.keys(changes).length === 0) throw new ValidationError('nothing to change: give at least one option (see --help)');
        const detail = await s.users.update(user.id, changes, cliActor());
        console.log(`updated user ${detail.username}`);
      });
    }),
  );

  return users.addCommand(add).addCommand(list).addCommand(show).addCommand(set);
}
