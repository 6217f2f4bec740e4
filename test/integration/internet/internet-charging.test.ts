import assert from 'node:assert/strict';
import { MB } from '../../../primary/internet/internet-settings';
import type { UsageInput, UsageReportInput } from '../../../primary/internet/internet-charging';
import type { Services } from '../../../primary/services';
import { describeOnEachDatabase } from '../../utils/databases';
import { accountFor, servicesFor } from '../../utils/fixtures';

const T0 = 1_800_000_000_000;

function line(username: string, domain: string, bytesIn: number, extra: Partial<UsageInput> = {}): UsageInput {
  return { username, domain, bytesIn, bytesOut: 0, cacheHitBytes: 0, requests: 1, firstSeenMs: T0, lastSeenMs: T0, ...extra };
}

function report(reportId: string, lines: UsageInput[]): UsageReportInput {
  return { reportId, secondary: 'proxy1', intervalStartMs: T0, intervalEndMs: T0 + 60_000, lines };
}

describeOnEachDatabase('InternetChargingService', (t) => {
  let s: Services;
  let ann: number;
  beforeEach(async () => {
    s = servicesFor(t.db);
    ann = await accountFor(s, { username: 'ann', restricted: true, initialCredit: 1000 });
    await s.internetSettings.set({ costPerMbMilli: 2500 }); // 2.5 minor units per MB
  });
  const balance = async (acc: number): Promise<number> => (await s.ledger.getAccount(acc)).balance;

  it('charges bytes x price per MB, rounded once, and a repeated report id changes nothing', async () => {
    const first = await s.internet.report(report('r1', [line('ann', 'a.test', 3 * MB), line('ann', 'b.test', MB)]));
    assert.deepEqual(first, { reportId: 'r1', charged: 10, blockedUsers: [], replayed: false });
    const again = await s.internet.report(report('r1', [line('ann', 'a.test', 3 * MB)]));
    assert.deepEqual(again, { reportId: 'r1', charged: 10, blockedUsers: [], replayed: true });
    assert.equal(await balance(ann), 990);
    const rows = await s.ledger.history(ann);
    assert.deepEqual(
      rows.filter((r) => r.type === 'net').map((r) => [r.amount, r.idempotencyKey]),
      [[-10, 'net:r1:ann']],
    );
    const usage = (await t.db.knex('internet_usage').orderBy('domain').select('domain', 'charged_bytes')) as {
      domain: string;
      charged_bytes: number | string;
    }[];
    assert.deepEqual(
      usage.map((u) => [u.domain, Number(u.charged_bytes)]),
      [
        ['a.test', 3 * MB],
        ['b.test', MB],
      ],
    );
  });

  it('carries the rounding remainder so many small intervals cost what one big one would', async () => {
    // Just under 0.2 MB per report at 2.5/MB is just under 0.5 each: alone each rounds to 0; ten cost 5.
    for (let i = 0; i < 10; i++) await s.internet.report(report(`small${i}`, [line('ann', 'a.test', Math.floor(MB / 5))]));
    assert.equal(await balance(ann), 995);
  });

  it('does not charge zero-rated domains (suffix match), zero-rated users, cache hits or uploads when so set', async () => {
    const bob = await accountFor(s, { username: 'bob', restricted: true, initialCredit: 1000 });
    await s.internetSettings.set({ zeroRatedDomains: ['.free.test'], zeroRatedUsers: ['bob'], chargeCacheHits: false, chargeUploads: false });
    const r = await s.internet.report(
      report('r2', [
        line('ann', 'free.test', 100 * MB),
        line('ann', 'www.free.test', 100 * MB),
        line('ann', 'notfree.test', 2 * MB, { cacheHitBytes: 50 * MB, bytesOut: 50 * MB }),
        line('bob', 'a.test', 100 * MB),
        line('nobody', 'a.test', 100 * MB),
      ]),
    );
    assert.equal(r.charged, 5);
    assert.equal(await balance(ann), 995);
    assert.equal(await balance(bob), 1000);
  });

  it('charges a restricted user past the limit, then reports them blocked once', async () => {
    const r = await s.internet.report(report('r3', [line('ann', 'a.test', 500 * MB)]));
    assert.deepEqual(r, { reportId: 'r3', charged: 1250, blockedUsers: ['ann'], replayed: false });
    assert.equal(await balance(ann), -250);
    const r2 = await s.internet.report(report('r4', [line('ann', 'a.test', MB)]));
    assert.deepEqual(r2.blockedUsers, []);
    assert.equal(await balance(ann), -253);
  });

  it('charges each period of activity once across reports', async () => {
    await s.internetSettings.set({ costPerMbMilli: 0, periodMinutes: 10, periodCost: 7 });
    const min = 60_000;
    await s.internet.report(report('p1', [line('ann', 'a.test', 1, { firstSeenMs: T0 + 1 * min, lastSeenMs: T0 + 2 * min })]));
    // T0 is a multiple of 10 minutes: p2 touches the same period and the next one.
    await s.internet.report(report('p2', [line('ann', 'a.test', 1, { firstSeenMs: T0 + 5 * min, lastSeenMs: T0 + 11 * min })]));
    assert.equal(await balance(ann), 1000 - 14);
  });

  it('refuses a report with bad fields and changes nothing', async () => {
    await assert.rejects(s.internet.report(report('', [line('ann', 'a.test', 1)])), { code: 'VALIDATION' });
    await assert.rejects(s.internet.report(report('x', [line('ann', 'a.test', -1)])), { code: 'VALIDATION' });
    await assert.rejects(s.internet.report(report('y', [line('', 'a.test', 1)])), { code: 'VALIDATION' });
    await assert.rejects(s.internet.report(report('z', [line('ann', 'a.test', 1, { firstSeenMs: 0, lastSeenMs: T0 })])), { code: 'VALIDATION' });
    assert.equal(await balance(ann), 1000);
  });
});
