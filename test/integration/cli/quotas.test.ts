import assert from 'node:assert/strict';
import { describeOnEachDatabase } from '../../utils/databases';
import { cliAgainst } from '../../utils/cli';
import { servicesFor } from '../../utils/fixtures';
import { listAudit } from '../../../primary/audit/audit-log';

/** Runs the real `quotient quotas ...` program in process (test/utils/cli.ts) against the test database. */
describeOnEachDatabase('quotient quotas (CLI)', (t) => {
  const { ok, fails } = cliAgainst(t, { QUOTIENT_TIMEZONE: 'Europe/London' });

  it('adds a "$2 a week for printing" schedule, runs it once per period and shows the history', async () => {
    const s = servicesFor(t.db);
    await s.groups.create({ name: 'students' });
    const ann = await s.users.createUser({ username: 'ann', groups: ['students'], restricted: false });
    await s.users.createUser({ username: 'bob', restricted: false });

    assert.match(
      await ok('quotas', 'add', 'print-weekly', '--group', 'students', '--period', 'weekly', '--weekday', 'mon', '--amount', '2.00'),
      /created quota schedule print-weekly: add \$2\.00 for students, weekly on mon at 00:00; next \d{4}-\d\d-\d\d 00:00 Europe\/London/,
    );
    await fails(/not a valid cron expression/, 'quotas', 'add', 'bad', '--all-users', '--period', 'cron', '--cron', '99 * * * *', '--amount', '1');
    await fails(/amount must not be negative/, 'quotas', 'add', 'neg', '--all-users', '--period', 'daily', '--amount', '-2.00');
    await fails(/group not found: nope/, 'quotas', 'add', 'x', '--group', 'nope', '--period', 'daily', '--amount', '1');
    assert.deepEqual(
      (await s.quotas.list()).map((q) => q.name),
      ['print-weekly'],
      'bad input changed nothing',
    );

    assert.match(await ok('quotas', 'run-now', 'print-weekly'), /run \d+ of print-weekly for period .*: done, 1 user\(s\), \$2\.00/);
    assert.match(await ok('quotas', 'run-now', 'print-weekly'), /already ran .* nothing changed/);
    assert.match(await ok('quotas', 'list'), /^print-weekly\s+students\s+weekly on mon at 00:00\s+add \$2\.00\s+yes\s+\d{4}-/m);
    assert.match(await ok('quotas', 'runs'), /print-weekly\s+\S+ 00:00\s+done\s+manual\s+1\s+\$2\.00/);
    assert.match(await ok('quotas', 'add', '--help'), /--cap <amount>/);

    assert.equal((await s.users.personalAccount(ann.id)).balance, 200);
    assert.equal((await s.ledger.history((await s.users.personalAccount(ann.id)).id)).filter((r) => r.type === 'quota').length, 1);
    assert.match(await ok('quotas', 'disable', 'print-weekly'), /print-weekly disabled/);
    assert.match(await ok('quotas', 'disable', 'print-weekly'), /print-weekly disabled/);
    assert.match(await ok('quotas', 'enable', 'print-weekly'), /print-weekly enabled/);
    await ok('quotas', 'remove', 'print-weekly');
    assert.deepEqual(await s.quotas.list(), []);

    // Every change is audited with the CLI actor, as the admin pages' are; a repeat that changed
    // nothing (the second run-now, the second disable) and refused input wrote no row.
    const audit = (await listAudit(t.db.knex, { targetType: 'quota_schedule' })).reverse();
    assert.deepEqual(
      audit.map((a) => [a.action, a.targetId, a.actor.startsWith('cli:')]),
      [
        ['quota.create', 'print-weekly', true],
        ['quota.run', 'print-weekly', true],
        ['quota.disable', 'print-weekly', true],
        ['quota.enable', 'print-weekly', true],
        ['quota.remove', 'print-weekly', true],
      ],
    );
    assert.deepEqual(audit[0]?.details, {
      group: 'students',
      period: 'weekly',
      weekday: 1,
      dayOfMonth: null,
      atTime: '00:00',
      cron: null,
      mode: 'add',
      amount: 200,
      cap: null,
      enabled: true,
    });
    assert.deepEqual(audit[1]?.details, { runId: audit[1]?.details.runId, periodStart: audit[1]?.details.periodStart, state: 'done', users: 1, total: 200 });
    assert.equal(typeof audit[1]?.details.runId, 'number');
  });
});
