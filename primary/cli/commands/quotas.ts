/**
 * `quotient quotas add|list|show|remove|enable|disable|run-now|runs`: quota schedules
 * and their run history. Times are shown in the primary's time zone (config `timezone`). Changes
 * go through QuotaAdmin, as the admin pages' do, and are audited with the CLI actor.
 */
import { Command, Option } from 'commander';
import { formatAmount, type CurrencyFormat } from '../../../common/money';
import { ValidationError } from '../../../common/errors';
import { QuotaAdmin } from '../../quotas/quota-admin';
import type { QuotaRun, QuotaSchedule } from '../../quotas/quota-service';
import { WEEKDAYS, localTime } from '../../quotas/schedule-input';
import { action, cliActor, printTable, withDatabaseOptions, withServices, type DatabaseFlags } from '../context';

interface AddFlags extends DatabaseFlags {
  group?: string;
  account?: string;
  allUsers?: boolean;
  period: string;
  weekday?: string;
  day?: string;
  at?: string;
  cron?: string;
  amount: string;
  mode: string;
  cap?: string;
  disabled?: boolean;
}

function describePeriod(q: QuotaSchedule): string {
  switch (q.period) {
    case 'daily':
      return `daily at ${q.atTime}`;
    case 'weekly':
      return `weekly on ${WEEKDAYS[q.weekday ?? 0] ?? '?'} at ${q.atTime}`;
    case 'monthly':
      return `monthly on day ${q.dayOfMonth ?? 1}${(q.dayOfMonth ?? 1) >= 29 ? ' (or the last day)' : ''} at ${q.atTime}`;
    default:
      return `cron "${q.cron ?? ''}"`;
  }
}

function describeMode(q: QuotaSchedule, c: CurrencyFormat): string {
  if (q.mode === 'reset') return `reset to ${formatAmount(q.amount, c)}`;
  return `add ${formatAmount(q.amount, c)}${q.cap === null ? '' : ` up to ${formatAmount(q.cap, c)}`}`;
}

function runRow(r: QuotaRun, tz: string, c: CurrencyFormat): (string | number)[] {
  return [
    r.id,
    r.schedule,
    localTime(r.periodStart, tz),
    r.state,
    r.reason,
    r.users,
    formatAmount(r.total, c),
    localTime(r.startedAt, tz),
    localTime(r.finishedAt, tz),
  ];
}
const RUN_HEADERS = ['RUN', 'SCHEDULE', 'PERIOD', 'STATE', 'REASON', 'USERS', 'TOTAL', 'STARTED', 'FINISHED'];

/** Whom a schedule pays, as the listings say it. */
function whom(q: QuotaSchedule): string {
  if (q.account !== null) return q.target === 'allocation' ? `each user of account ${q.account}` : `account ${q.account}`;
  return q.group ?? 'all users';
}

export function quotasCommand(): Command {
  const quotas = new Command('quotas').description('scheduled quota allocation: schedules, runs and run history');

  const add = new Command('add')
    .description('create a quota schedule, e.g. quotas add print-weekly --group students --period weekly --weekday mon --amount 2.00')
    .argument('<name>', 'a name for the schedule')
    .option('--group <group>', 'allocate to the members of this group')
    .option('--all-users', 'allocate to every user')
    .option('--account <name>', "pay a shared account's balance (an allocation account: each user's balance on it)")
    .addOption(new Option('--period <period>', 'how often').choices(['daily', 'weekly', 'monthly', 'cron']).makeOptionMandatory())
    .option('--weekday <day>', 'weekly: sun..sat or 0-6')
    .option('--day <n>', 'monthly: day of the month 1-31 (29-31: the last day in shorter months)')
    .option('--at <HH:MM>', 'local time of day in the primary time zone', '00:00')
    .option('--cron <expression>', "cron: five fields, e.g. '0 6 * * 1-5'")
    .requiredOption('--amount <amount>', 'amount per period, e.g. 2.00')
    .addOption(new Option('--mode <mode>', 'add to the balance, or reset the balance to the amount').choices(['add', 'reset']).default('add'))
    .option('--cap <amount>', 'add mode: accumulate only up to this balance')
    .option('--disabled', 'create it disabled');
  withDatabaseOptions(add).action(
    action(async (name: string, flags: AddFlags) => {
      await withServices(flags, async (s) => {
        const q = s.quotas;
        const currency = await s.settings.currency();
        const schedule = await new QuotaAdmin({ services: s }).create({ name, ...flags }, undefined, cliActor());
        const next = q.nextRuns(schedule, 1)[0] ?? null;
        console.log(
          `created quota schedule ${schedule.name}: ${describeMode(schedule, currency)} for ${whom(schedule)}, ${describePeriod(schedule)}; next ${localTime(next, q.timezone)} ${q.timezone}`,
        );
      });
    }),
  );

  const list = new Command('list').description('list quota schedules with their next run').option('--json', 'print as JSON');
  withDatabaseOptions(list).action(
    action(async (flags: DatabaseFlags & { json?: boolean }) => {
      await withServices(flags, async (s) => {
        const q = s.quotas;
        const rows = await q.list();
        if (flags.json)
          return console.log(
            JSON.stringify(
              rows.map((r) => ({ ...r, nextRuns: q.nextRuns(r, 1) })),
              null,
              2,
            ),
          );
        const c = await s.settings.currency();
        printTable(
          ['NAME', 'FOR', 'PERIOD', 'MODE', 'ENABLED', `NEXT (${q.timezone})`],
          rows.map((r) => [
            r.name,
            whom(r),
            describePeriod(r),
            describeMode(r, c),
            r.enabled ? 'yes' : 'no',
            r.enabled ? localTime(q.nextRuns(r, 1)[0] ?? null, q.timezone) : '-',
          ]),
        );
      });
    }),
  );

  const show = new Command('show').description('show a schedule, its next run times and its recent runs').argument('<name>').option('--json', 'print as JSON');
  withDatabaseOptions(show).action(
    action(async (name: string, flags: DatabaseFlags & { json?: boolean }) => {
      await withServices(flags, async (s) => {
        const q = s.quotas;
        const schedule = await q.get(name);
        const next = q.nextRuns(schedule, 5);
        const runs = await q.runs({ schedule: name, limit: 10 });
        if (flags.json) return console.log(JSON.stringify({ ...schedule, nextRuns: next, runs }, null, 2));
        const c = await s.settings.currency();
        console.log(`quota schedule ${schedule.name}${schedule.enabled ? '' : ' (disabled)'}`);
        console.log(`${describeMode(schedule, c)} for ${whom(schedule)}, ${describePeriod(schedule)}`);
        console.log(`next runs (${q.timezone}): ${next.map((ms) => localTime(ms, q.timezone)).join(', ')}`);
        if (runs.length === 0) return console.log('no runs yet');
        printTable(
          RUN_HEADERS,
          runs.map((r) => runRow(r, q.timezone, c)),
        );
      });
    }),
  );

  const remove = new Command('remove').description('delete a schedule and its run history (ledger rows stay)').argument('<name>');
  withDatabaseOptions(remove).action(
    action(async (name: string, flags: DatabaseFlags) => {
      await withServices(flags, async (s) => {
        await new QuotaAdmin({ services: s }).remove(name, undefined, cliActor());
        console.log(`removed quota schedule ${name}`);
      });
    }),
  );

  const toggles = (['enable', 'disable'] as const).map((verb) => {
    const cmd = new Command(verb).description(`${verb} a schedule`).argument('<name>');
    return withDatabaseOptions(cmd).action(
      action(async (name: string, flags: DatabaseFlags) => {
        await withServices(flags, async (s) => {
          const schedule = await new QuotaAdmin({ services: s }).setEnabled(name, verb === 'enable', undefined, cliActor());
          console.log(`quota schedule ${schedule.name} ${schedule.enabled ? 'enabled' : 'disabled'}`);
        });
      }),
    );
  });

  const runNow = new Command('run-now').description('run a schedule for the current period now (once per period: a repeat does nothing)').argument('<name>');
  withDatabaseOptions(runNow).action(
    action(async (name: string, flags: DatabaseFlags) => {
      await withServices(flags, async (s) => {
        const admin = new QuotaAdmin({ services: s });
        const { run, ran } = await admin.runNow(name, undefined, cliActor());
        const c = await s.settings.currency();
        const period = localTime(run.periodStart, admin.timezone);
        console.log(
          ran
            ? `run ${run.id} of ${run.schedule} for period ${period}: ${run.state}, ${run.users} user(s), ${formatAmount(run.total, c)}`
            : `period ${period} of ${run.schedule} already ran (run ${run.id}: ${run.users} user(s), ${formatAmount(run.total, c)}); nothing changed`,
        );
      });
    }),
  );

  const runs = new Command('runs')
    .description('run history, newest first')
    .argument('[name]', 'only this schedule')
    .option('--limit <n>', 'how many', '20')
    .option('--json', 'print as JSON');
  withDatabaseOptions(runs).action(
    action(async (name: string | undefined, flags: DatabaseFlags & { limit: string; json?: boolean }) => {
      await withServices(flags, async (s) => {
        const limit = Number(flags.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new ValidationError('--limit takes a whole number 1-10000');
        const q = s.quotas;
        if (name !== undefined) await q.get(name);
        const rows = await q.runs({ ...(name !== undefined && { schedule: name }), limit });
        if (flags.json) return console.log(JSON.stringify(rows, null, 2));
        if (rows.length === 0) return console.log('no runs yet');
        const c = await s.settings.currency();
        printTable(
          RUN_HEADERS,
          rows.map((r) => runRow(r, q.timezone, c)),
        );
      });
    }),
  );

  quotas.addCommand(add).addCommand(list).addCommand(show).addCommand(remove);
  for (const t of toggles) quotas.addCommand(t);
  return quotas.addCommand(runNow).addCommand(runs);
}
