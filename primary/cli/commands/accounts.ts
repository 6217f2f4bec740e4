/**
 * `quotient accounts add|list|show|set|rename|grant|revoke|adjust|set-balance|archive|active|overruns|import`:
 * shared accounts (a balance, or a per-user allocation with its period and limit: overruns lists
 * who went past it), their access lists (one by one or many from CSV), their balances (through BalanceChanges, audited) and users'
 * active accounts (docs/accounts.md). Dates are YYYY-MM-DD in UTC: an account starts at the
 * beginning of its start day and may be charged through the whole of its expiry day.
 */
import { Command } from 'commander';
import { ValidationError } from '../../../common/errors';
import { formatAmount, parseAmount, type CurrencyFormat } from '../../../common/money';
import { ACCOUNT_COLUMNS, importAccounts } from '../../accounts/account-import';
import { parseLimit, type AllocationAccount, type AllocationLimit, type AllocationSchedule } from '../../accounts/allocations';
import { dayText, parseDay, parseMultiplier } from '../../accounts/account-names';
import type { AccountSettings, Grantee, SharedAccount } from '../../accounts/shared-accounts';
import type { Period } from '../../quotas/periods';
import { PERIODS, parseDayOfMonth, parseScheduleText, parseWeekday } from '../../quotas/schedule-input';
import type { Services } from '../../services';
import { balanceChangeCommand } from '../balance-change';
import { action, amountArg, cliActor, printTable, withDatabaseOptions, withServices, type DatabaseFlags } from '../context';

interface SettingFlags {
  code?: string;
  pin?: string;
  restricted?: boolean;
  creditLimit?: string;
  multiplier?: string;
  starts?: string;
  expires?: string;
  notes?: string;
  enabled?: boolean;
}

async function settingsFrom(s: Services, flags: SettingFlags): Promise<AccountSettings> {
  const out: AccountSettings = {};
  if (flags.code !== undefined) out.code = flags.code === 'none' ? null : flags.code;
  if (flags.pin !== undefined) out.pin = flags.pin === 'none' ? null : flags.pin;
  if (flags.restricted !== undefined) out.restricted = flags.restricted;
  if (flags.creditLimit !== undefined) out.creditLimit = (await amountArg(s, flags.creditLimit, 'credit limit')).amount;
  if (flags.multiplier !== undefined) out.multiplierBp = parseMultiplier(flags.multiplier);
  if (flags.starts !== undefined) out.startsAt = parseDay(flags.starts, 'starts', false, s.accounts.timezone);
  if (flags.expires !== undefined) out.expiresAt = parseDay(flags.expires, 'expires', true, s.accounts.timezone);
  if (flags.notes !== undefined) out.notes = flags.notes;
  if (flags.enabled !== undefined) out.enabled = flags.enabled;
  return out;
}

const settingOptions = (cmd: Command): Command =>
  cmd
    .option('--code <code>', "code for print jobs (-o job-account-id=CODE); letters, digits, '.', '_'")
    .option('--pin <digits>', 'PIN a job must add (CODE-PIN); leading zeros count')
    .option('--restricted', 'deny jobs that would take the balance below minus the credit limit')
    .option('--unrestricted', 'never deny for want of credit')
    .option('--credit-limit <amount>', 'overdraft of a restricted account, e.g. 50.00')
    .option('--multiplier <x>', 'cost multiplier, e.g. 1.5')
    .option('--starts <date>', 'first day it may be charged (YYYY-MM-DD, in the primary time zone) or none')
    .option('--expires <date>', 'last day it may be charged (YYYY-MM-DD, in the primary time zone) or none')
    .option('--notes <text>', 'notes for administrators');

function describe(a: SharedAccount, c: CurrencyFormat, timezone: string): string {
  const state = a.archived ? 'archived' : a.enabled ? 'enabled' : 'disabled';
  const limit = a.restricted ? `restricted, credit limit ${formatAmount(a.creditLimit, c)}` : 'unrestricted';
  const day = (ms: number | null, end: boolean): string => (ms === null ? '-' : dayText(ms, end, timezone));
  return [
    `account ${a.name} (${state})`,
    `code ${a.code ?? '-'}, PIN ${a.pin === null ? 'none' : 'set'}, multiplier ${a.multiplierBp / 10000}`,
    `balance ${formatAmount(a.balance, c)}, reserved ${formatAmount(a.reserved, c)}, ${limit}`,
    `from ${day(a.startsAt, false)} to ${day(a.expiresAt, true)}`,
    ...(a.notes ? [`notes: ${a.notes}`] : []),
  ].join('\n');
}

interface AllocationFlags {
  model: string;
  allocation?: string;
  period: string;
  weekday?: string;
  day?: string;
  at?: string;
  cron?: string;
  limit: string;
}

function describeAllocation(a: AllocationAccount, c: CurrencyFormat): string {
  return `allocation ${formatAmount(a.schedule.amount, c)} per user, ${a.schedule.period}, ${a.limit} limit (schedule ${a.schedule.name})`;
}

function allocationJson(a: AllocationAccount): Record<string, unknown> {
  const q = a.schedule;
  return { amount: q.amount, period: q.period, weekday: q.weekday, dayOfMonth: q.dayOfMonth, atTime: q.atTime, cron: q.cron, limit: a.limit, schedule: q.name };
}

/** `set`'s allocation flags as Allocations.change takes them, or undefined when none is given. */
function allocationChanges(flags: Partial<AllocationFlags>, decimals: number): { limit?: AllocationLimit; schedule?: Partial<AllocationSchedule> } | undefined {
  const schedule: Partial<AllocationSchedule> = {};
  if (flags.allocation !== undefined) schedule.amount = parseAmount(flags.allocation, decimals, 'allocation');
  if (flags.period !== undefined) {
    if (!PERIODS.includes(flags.period as Period))
      throw new ValidationError(`period must be daily, weekly, monthly or cron, got ${JSON.stringify(flags.period)}`, { field: 'period' });
    schedule.period = flags.period as Period;
  }
  if (flags.weekday !== undefined) schedule.weekday = parseWeekday(flags.weekday);
  if (flags.day !== undefined) schedule.dayOfMonth = parseDayOfMonth(flags.day);
  if (flags.at !== undefined) schedule.atTime = flags.at;
  if (flags.cron !== undefined) schedule.cron = flags.cron;
  const limit = flags.limit === undefined ? undefined : parseLimit(flags.limit);
  if (limit === undefined && Object.keys(schedule).length === 0) return undefined;
  return { ...(limit !== undefined && { limit }), ...(Object.keys(schedule).length > 0 && { schedule }) };
}

function granteeOf(flags: { user?: string; group?: string; everyone?: boolean }): Grantee {
  const given = [flags.user !== undefined, flags.group !== undefined, Boolean(flags.everyone)].filter(Boolean).length;
  if (given !== 1) throw new ValidationError('give exactly one of --user, --group or --everyone');
  if (flags.user !== undefined) return { user: flags.user };
  if (flags.group !== undefined) return { group: flags.group };
  return { everyone: true };
}

export function accountsCommand(): Command {
  const accounts = new Command('accounts').description('manage shared accounts, their access and users’ active accounts');

  const add = settingOptions(new Command('add').description('create a shared account (a name parent\\sub needs its parent)').argument('<name>'))
    .option('--model <model>', 'shared (one balance) or allocation (each user with access gets --allocation per --period)', 'shared')
    .option('--allocation <amount>', 'allocation: what each user gets per period, e.g. 50.00')
    .option('--period <period>', 'allocation: daily, weekly, monthly or cron', 'monthly')
    .option('--weekday <day>', 'allocation, weekly: sun..sat or 0-6')
    .option('--day <n>', 'allocation, monthly: day of the month 1-31', '1')
    .option('--at <HH:MM>', 'allocation: local time of day the period starts', '00:00')
    .option('--cron <expression>', 'allocation, cron: five fields')
    .option('--limit <type>', 'allocation: unlimited, soft (allowed, warned, reported) or hard (denied)', 'hard');
  withDatabaseOptions(add).action(
    action(async (name: string, flags: DatabaseFlags & SettingFlags & AllocationFlags & { unrestricted?: boolean }) => {
      await withServices(flags, async (s) => {
        const settings = { name, ...(await settingsFrom(s, restrictedOf(flags))) };
        const c = await s.settings.currency();
        if (flags.model === 'shared') return console.log(`created ${describe(await s.accounts.create(settings, cliActor()), c, s.accounts.timezone)}`);
        if (flags.model !== 'allocation')
          throw new ValidationError(`model must be shared or allocation, got ${JSON.stringify(flags.model)}`, { field: 'model' });
        if (flags.allocation === undefined) throw new ValidationError('an allocation account needs --allocation AMOUNT', { field: 'allocation' });
        const period = parseScheduleText({ ...flags, name, allUsers: true, amount: flags.allocation, mode: 'reset' }, c.decimals);
        const schedule = { period: period.period, weekday: period.weekday ?? null, dayOfMonth: period.dayOfMonth ?? null, atTime: period.atTime ?? '00:00' };
        const account = await s.allocations.create(
          { ...settings, limit: parseLimit(flags.limit), schedule: { ...schedule, cron: period.cron ?? null, amount: period.amount } },
          cliActor(),
        );
        console.log(`created ${describe(account, c, s.accounts.timezone)}\n${describeAllocation(account, c)}`);
      });
    }),
  );

  const overruns = new Command('overruns')
    .description('list the users past their allocation on an allocation account, and by how much')
    .argument('<name>')
    .option('--json');
  withDatabaseOptions(overruns).action(
    action(async (name: string, flags: DatabaseFlags & { json?: boolean }) => {
      await withServices(flags, async (s) => {
        const rows = await s.allocations.overruns(name);
        if (flags.json) return console.log(JSON.stringify(rows, null, 2));
        const c = await s.settings.currency();
        printTable(
          ['USER', 'BALANCE', 'RESERVED', 'OVERRUN'],
          rows.map((r) => [r.username, formatAmount(r.balance, c), formatAmount(r.reserved, c), formatAmount(r.overrun, c)]),
        );
      });
    }),
  );

  const list = new Command('list')
    .description('list shared accounts')
    .option('--search <text>')
    .option('--archived', 'include archived accounts')
    .option('--json');
  withDatabaseOptions(list).action(
    action(async (flags: DatabaseFlags & { search?: string; archived?: boolean; json?: boolean }) => {
      await withServices(flags, async (s) => {
        const rows = await s.accounts.list({ ...(flags.search !== undefined && { search: flags.search }), includeArchived: Boolean(flags.archived) });
        if (flags.json) return console.log(JSON.stringify(rows, null, 2));
        const c = await s.settings.currency();
        printTable(
          ['NAME', 'CODE', 'BALANCE', 'STATE'],
          rows.map((a) => [a.name, a.code ?? '', formatAmount(a.balance, c), a.archived ? 'archived' : a.enabled ? 'enabled' : 'disabled']),
        );
      });
    }),
  );

  const show = new Command('show').description('show a shared account and who may charge it').argument('<name>').option('--json');
  withDatabaseOptions(show).action(
    action(async (name: string, flags: DatabaseFlags & { json?: boolean }) => {
      await withServices(flags, async (s) => {
        const account = await s.accounts.get(name);
        const access = await s.accounts.access(name);
        const allocation = await s.allocations.find(account.id);
        if (flags.json) return console.log(JSON.stringify({ ...account, access, ...(allocation && { allocation: allocationJson(allocation) }) }, null, 2));
        const c = await s.settings.currency();
        console.log(describe(account, c, s.accounts.timezone));
        if (allocation) console.log(describeAllocation(allocation, c));
        console.log(
          `access: ${access.everyone ? 'everyone' : [...access.users.map((u) => `user ${u}`), ...access.groups.map((g) => `group ${g}`)].join(', ') || 'nobody'}`,
        );
      });
    }),
  );

  const set = settingOptions(new Command('set').description("change a shared account's settings, or an allocation account's allocation").argument('<name>'))
    .option('--enable', 'allow new jobs')
    .option('--disable', 'refuse new jobs')
    .option('--allocation <amount>', 'allocation account: what each user gets from the next period, e.g. 60.00')
    .option('--period <period>', 'allocation account: daily, weekly, monthly or cron')
    .option('--weekday <day>', 'allocation account, weekly: sun..sat or 0-6')
    .option('--day <n>', 'allocation account, monthly: day of the month 1-31 (1 unless given)')
    .option('--at <HH:MM>', 'allocation account: local time of day the period starts')
    .option('--cron <expression>', 'allocation account, cron: five fields')
    .option('--limit <type>', 'allocation account: unlimited, soft or hard');
  withDatabaseOptions(set).action(
    action(
      async (
        name: string,
        flags: DatabaseFlags & SettingFlags & Partial<AllocationFlags> & { unrestricted?: boolean; enable?: boolean; disable?: boolean },
      ) => {
        await withServices(flags, async (s) => {
          const enabled = flags.enable ? true : flags.disable ? false : undefined;
          const c = await s.settings.currency();
          const settings = await settingsFrom(s, { ...restrictedOf(flags), ...(enabled !== undefined && { enabled }) });
          const allocation = allocationChanges(flags, c.decimals);
          if (Object.keys(settings).length === 0 && allocation === undefined) throw new ValidationError('nothing to change');
          let account: SharedAccount = Object.keys(settings).length > 0 ? await s.accounts.update(name, settings, cliActor()) : await s.accounts.get(name);
          if (allocation) account = await s.allocations.change(account.name, allocation, cliActor());
          console.log(describe(account, c, s.accounts.timezone));
          const now = await s.allocations.find(account.id);
          if (now) console.log(describeAllocation(now, c));
        });
      },
    ),
  );

  const rename = new Command('rename')
    .description('rename a shared account or move it in the hierarchy (OLD to NEW\\NAME); its sub-accounts follow')
    .argument('<name>')
    .argument('<new-name>');
  withDatabaseOptions(rename).action(
    action(async (name: string, newName: string, flags: DatabaseFlags) => {
      await withServices(flags, async (s) => {
        const before = await s.accounts.get(name);
        const account = await s.accounts.rename(name, newName, cliActor());
        console.log(`renamed ${before.name} to ${account.name}`);
      });
    }),
  );

  for (const change of ['grant', 'revoke'] as const) {
    const cmd = new Command(change)
      .description(change === 'grant' ? 'let a user, a group or everyone charge the account' : 'take access away')
      .argument('<name>')
      .option('--user <username>')
      .option('--group <group>')
      .option('--everyone', 'every user (a global account)');
    withDatabaseOptions(cmd).action(
      action(async (name: string, flags: DatabaseFlags & { user?: string; group?: string; everyone?: boolean }) => {
        await withServices(flags, async (s) => {
          const access = await s.accounts[change](name, granteeOf(flags), cliActor());
          console.log(
            `${name}: ${access.everyone ? 'everyone' : ''}${access.everyone ? '; ' : ''}users: ${access.users.join(', ') || '-'}; groups: ${access.groups.join(', ') || '-'}`,
          );
        });
      }),
    );
    accounts.addCommand(cmd);
  }

  for (const name of ['adjust', 'set-balance'] as const) {
    accounts.addCommand(
      balanceChangeCommand({
        name,
        kind: name === 'adjust' ? 'adjust' : 'set',
        description: name === 'adjust' ? "add to (or take from) a shared account's balance" : "set a shared account's balance",
        target: 'name',
        amountHelp: name === 'adjust' ? 'signed amount, e.g. 50.00 or -2.50' : 'new balance, e.g. 100.00',
        owner: async (s, accountName) => ({ accountId: (await s.accounts.get(accountName)).id }),
      }),
    );
  }

  const importCmd = new Command('import')
    .description(`create shared accounts with their access from a CSV file (columns: ${ACCOUNT_COLUMNS.join(', ')}); all rows or none`)
    .argument('<file>')
    .option('--dry-run', 'check every row against the file and the database, writing nothing');
  withDatabaseOptions(importCmd).action(
    action(async (file: string, flags: DatabaseFlags & { dryRun?: boolean }) => {
      await withServices(flags, async (s) => {
        const result = await importAccounts(s, file, { actor: cliActor(), dryRun: flags.dryRun === true });
        const what = `${result.accounts} account(s) with ${result.grants} grant(s) of access`;
        if (result.problems.length > 0) {
          for (const p of result.problems) console.error(p.line > 0 ? `line ${p.line}: ${p.reason}` : p.reason);
          throw new ValidationError(`nothing imported: ${result.problems.length} problem(s) in ${file}`);
        }
        console.log(result.written ? `imported ${what}` : `dry run: would import ${what}; nothing written`);
      });
    }),
  );
  accounts.addCommand(importCmd);

  const archive = new Command('archive').description('archive a shared account: kept for reports, refused for new jobs').argument('<name>');
  withDatabaseOptions(archive).action(
    action(async (name: string, flags: DatabaseFlags) => {
      await withServices(flags, async (s) => {
        const account = await s.accounts.archive(name, cliActor());
        console.log(`archived ${account.name}`);
      });
    }),
  );

  const active = new Command('active')
    .description("show a user's active account, or set it (a shared account's name, or personal)")
    .argument('<username>')
    .argument('[account]');
  withDatabaseOptions(active).action(
    action(async (username: string, accountName: string | undefined, flags: DatabaseFlags) => {
      await withServices(flags, async (s) => {
        if (accountName !== undefined) await s.accounts.setActive(username, accountName, cliActor());
        const now = await s.accounts.active(username);
        console.log(`${username}: ${now.type === 'personal' ? 'personal account' : `account ${now.name}`}${now.chosen ? '' : ' (by default)'}`);
      });
    }),
  );

  return accounts
    .addCommand(add)
    .addCommand(list)
    .addCommand(show)
    .addCommand(set)
    .addCommand(rename)
    .addCommand(archive)
    .addCommand(active)
    .addCommand(overruns);
}

/** --restricted / --unrestricted as one setting; both at once is a mistake. */
function restrictedOf(flags: SettingFlags & { unrestricted?: boolean }): SettingFlags {
  if (flags.restricted && flags.unrestricted) throw new ValidationError('give --restricted or --unrestricted, not both');
  const out: SettingFlags = { ...flags };
  delete out.restricted;
  if (flags.restricted) out.restricted = true;
  if (flags.unrestricted) out.restricted = false;
  return out;
}
