/**
 * The proxy secondary's ingestion against a real primary: lines appended to a tailed access.log
 * are reported and charged exactly once across a secondary restart and a rotation while it was
 * down; garbage lines are counted and charge nothing.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { RunningPrimary } from '../../../primary/boot';
import type { RunningSecondary } from '../../../secondary/daemon';
import { encodeUsername } from '../../../secondary/proxy/squid-log-parser';
import { describeOnEachDatabase } from '../../utils/databases';
import { sharedPrimary } from '../../utils/primary';
import { until } from '../../utils/until';
import { startTestSecondary } from '../../utils/secondary';

const MB = 1_048_576;

function q1(user: string, bytes: number, i: number): string {
  return `Q1 ${(1_800_000_000 + i).toFixed(3)} 10.0.0.1 TCP_MISS/200 ${bytes} 100 GET paid.test ${encodeUsername(user)}\n`;
}

describeOnEachDatabase('proxy usage pipeline', (t) => {
  let primary: RunningPrimary;
  let secondary: RunningSecondary | undefined;
  const shared = sharedPrimary(t);
  beforeEach(async () => {
    primary = shared.primary;
    await primary.services.internetSettings.set({ costPerMbMilli: 1000, chargeUploads: false });
    await primary.services.users.createUser({ username: 'ann', restricted: false, initialCredit: 0 });
  });
  afterEach(async () => {
    await secondary?.shutdown();
    secondary = undefined;
  });

  const start = (log: string): Promise<RunningSecondary> =>
    startTestSecondary(primary.grpcPort, path.join(t.dataDir, 'proxy-secondary'), {
      name: 'proxy-1',
      flags: { role: 'proxy', proxyAccessLog: log, proxyReportSeconds: 1 },
    });
  const requests = async (): Promise<number> => {
    const row = (await t.db.knex('internet_usage').first(t.db.knex.raw('COALESCE(SUM(requests), 0) AS n'))) as { n: number | string };
    return Number(row.n);
  };
  const balance = async (): Promise<number> => (await primary.services.users.personalAccount((await primary.services.users.getByUsername('ann')).id)).balance;
  const reach = (n: number) =>
    until(`${n} requests`, async () => {
      const r = await requests();
      assert.ok(r <= n, `${r} requests recorded, expected ${n}`);
      return r === n ? r : undefined;
    });

  it('charges every line once across a restart and a rotation while the secondary was down', async () => {
    const log = path.join(t.dataDir, 'access.log');
    let i = 0;
    fs.writeFileSync(log, '');
    for (let k = 0; k < 10; k++) fs.appendFileSync(log, q1('ann', MB, i++));
    secondary = await start(log);
    await reach(10);
    await secondary.shutdown();
    secondary = undefined;

    // While it is down: more lines, a rotation, lines in the new file, a half-written line.
    for (let k = 0; k < 5; k++) fs.appendFileSync(log, q1('ann', MB, i++));
    fs.renameSync(log, `${log}.0`);
    for (let k = 0; k < 5; k++) fs.appendFileSync(log, q1('ann', MB, i++));
    const last = q1('ann', MB, i++);
    fs.appendFileSync(log, last.slice(0, 20));

    secondary = await start(log);
    await reach(20);
    fs.appendFileSync(log, last.slice(20));
    await reach(21);
    // Nothing more arrives later: flush again and wait for the sender to be idle.
    await secondary.proxy?.pipeline.flushNow();
    await secondary.proxy?.sender.whenIdle();
    assert.equal(await requests(), 21);
    assert.equal(await balance(), -21);
    const reports = (await t.db.knex('internet_reports').pluck('report_id')) as string[];
    assert.equal(new Set(reports).size, reports.length);
  });

  it('counts garbage and unauthenticated lines, charges nothing for them, and keeps reading', async () => {
    const log = path.join(t.dataDir, 'access.log');
    fs.writeFileSync(log, `this is not squid\n${q1('-', MB, 1)}Q1 1.0 x TCP_MISS/200 99999999999999999 0 GET a.test ann\n${q1('ann', 2 * MB, 2)}`);
    secondary = await start(log);
    await reach(1);
    assert.equal(await balance(), -2);
    assert.deepEqual(secondary.proxy?.pipeline.counts.file, { lines: 4, usage: 1, anonymous: 1, denied: 0, bad: 2 });
    assert.equal(secondary.status().badLogLines, 2);
  });
});
