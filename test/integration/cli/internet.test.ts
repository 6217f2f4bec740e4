/**
 * `quotient internet show|set` run in process (test/utils/cli.ts) on each dialect: what it stores,
 * what a usage report then costs, the audit rows, and bad input refused with exit 1 and nothing
 * changed.
 */
import assert from 'node:assert/strict';
import { listAudit } from '../../../primary/audit/audit-log';
import { describeOnEachDatabase } from '../../utils/databases';
import { servicesFor } from '../../utils/fixtures';
import { cliAgainst, runCliInProcess } from '../../utils/cli';

const MB = 1_048_576;

describeOnEachDatabase('quotient internet', (t) => {
  const { cli, ok, fails } = cliAgainst(t);

  it('shows the defaults, stores each setting, audits it, and the next report is charged by it', async () => {
    const show = await ok('internet', 'show');
    assert.match(show, /^costPerMbMilli = 0 {2}# \$0\.00 per MB$/m);
    assert.match(show, /^chargeCacheHits = true {2}# cache hits are charged$/m);
    assert.match(show, /^zeroRatedDomains = \[\]$/m);
    assert.match(show, /^reportIntervalSeconds = 60 /m);

    assert.match(await ok('internet', 'set', 'costPerMb', '0.025'), /^costPerMbMilli = 2500 {2}# \$0\.025 per MB$/m);
    assert.match(await ok('internet', 'set', 'chargeCacheHits', 'no'), /^chargeCacheHits = false {2}# cache hits are free$/m);
    assert.match(await ok('internet', 'set', 'chargeUploads', 'no'), /uploads are free/);
    assert.match(
      await ok('internet', 'set', 'zeroRatedDomains', 'Library.Example.EDU, .intra.test'),
      /^zeroRatedDomains = \["library\.example\.edu","intra\.test"\]$/m,
    );
    assert.match(await ok('internet', 'set', 'zeroRatedUsers', 'Kiosk'), /^zeroRatedUsers = \["kiosk"\]$/m);
    await ok('internet', 'set', 'periodMinutes', '60');
    assert.match(await ok('internet', 'set', 'periodCost', '0.10'), /^periodCost = 10 {2}# \$0\.10$/m);

    const s = servicesFor(t.db);
    assert.deepEqual(await s.internetSettings.get(), {
      costPerMbMilli: 2500,
      chargeCacheHits: false,
      chargeUploads: false,
      zeroRatedDomains: ['library.example.edu', 'intra.test'],
      zeroRatedUsers: ['kiosk'],
      periodMinutes: 60,
      periodCost: 10,
    });
    const json = JSON.parse(await ok('internet', 'show', '--json')) as Record<string, unknown>;
    assert.deepEqual([json.costPerMbMilli, json.periodCost, json.reportIntervalSeconds], [2500, 10, 60]);

    const audit = (await listAudit(t.db.knex, { targetType: 'setting' })).reverse();
    assert.deepEqual(
      audit.map((a) => [a.action, a.targetId, a.details, a.actor.startsWith('cli:')]),
      [
        ['settings.set', 'internet.costPerMbMilli', { from: 0, to: 2500 }, true],
        ['settings.set', 'internet.chargeCacheHits', { from: true, to: false }, true],
        ['settings.set', 'internet.chargeUploads', { from: true, to: false }, true],
        ['settings.set', 'internet.zeroRatedDomains', { from: [], to: ['library.example.edu', 'intra.test'] }, true],
        ['settings.set', 'internet.zeroRatedUsers', { from: [], to: ['kiosk'] }, true],
        ['settings.set', 'internet.periodMinutes', { from: 0, to: 60 }, true],
        ['settings.set', 'internet.periodCost', { from: 0, to: 10 }, true],
      ],
    );
    await ok('internet', 'set', 'periodCost', '0.10');
    assert.equal((await listAudit(t.db.knex, { targetType: 'setting' })).length, 7, 'setting the same value again is not a change');

    // The primary charges by them: 4 MB fetched (2 MB more from the cache, 1 MB uploaded, both
    // free), 8 MB on a zero-rated domain; one hour period. 4 x 2.5 cents + 10 cents = 20 cents.
    const ann = await s.users.createUser({ username: 'ann', initialCredit: 1000 });
    const at = Date.UTC(2026, 0, 5, 9, 30);
    const line = { username: 'ann', requests: 1, firstSeenMs: at, lastSeenMs: at, bytesOut: 0, cacheHitBytes: 0 };
    const outcome = await s.internet.report({
      reportId: 'px:cli-test',
      secondary: 'px',
      intervalStartMs: at,
      intervalEndMs: at + 60_000,
      lines: [
        { ...line, domain: 'paid.test', bytesIn: 4 * MB, cacheHitBytes: 2 * MB, bytesOut: MB },
        { ...line, domain: 'www.library.example.edu', bytesIn: 8 * MB },
      ],
    });
    assert.equal(outcome.charged, 20);
    assert.equal((await s.users.personalAccount(ann.id)).balance, 1000 - 20);
  });

  it('refuses bad values and unknown keys with a clear message and exit 1, and changes nothing', async () => {
    await ok('internet', 'set', 'costPerMbMilli', '1000');
    const s = servicesFor(t.db);
    const before = await s.internetSettings.get();
    const audited = (await listAudit(t.db.knex)).length;

    await fails(/costPerMb must not be negative: -1/, 'internet', 'set', 'costPerMb', '-1');
    await fails(/costPerMb has more than 5 decimal places: 0\.000001/, 'internet', 'set', 'costPerMb', '0.000001');
    await fails(/costPerMb is not a number: "cheap"/, 'internet', 'set', 'costPerMb', 'cheap');
    await fails(/costPerMbMilli must be a whole number 0\.\.10000000000000: "2\.5"/, 'internet', 'set', 'costPerMbMilli', '2.5');
    await fails(/chargeUploads takes yes or no: "maybe"/, 'internet', 'set', 'chargeUploads', 'maybe');
    await fails(/zeroRatedDomains\.1: must be a host name or a suffix like \.example\.org/, 'internet', 'set', 'zeroRatedDomains', 'ok.test,not a host');
    await fails(/zeroRatedDomains: an empty name in the list/, 'internet', 'set', 'zeroRatedDomains', 'a.test,,b.test');
    await fails(/zeroRatedUsers: a JSON array of strings is needed/, 'internet', 'set', 'zeroRatedUsers', '[1, 2]');
    await fails(/periodMinutes must be a whole number 0\.\.1440: 1441/, 'internet', 'set', 'periodMinutes', '1441');
    await fails(/periodCost has more than 2 decimal places: 0\.105/, 'internet', 'set', 'periodCost', '0.105');
    await fails(
      /reportInterval is not a setting of the primary: secondaries report every 60 s unless their own proxyReportSeconds/,
      'internet',
      'set',
      'reportInterval',
      '5',
    );
    await fails(/unknown internet setting costPerGb; known: costPerMb, costPerMbMilli, chargeCacheHits/, 'internet', 'set', 'costPerGb', '1');
    const missing = await cli('internet', 'set', 'costPerMb');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /missing required argument 'value'/);

    assert.deepEqual(await s.internetSettings.get(), before);
    assert.equal((await listAudit(t.db.knex)).length, audited);
  });
});

describe('quotient internet --help', () => {
  it('prints help for the command and each subcommand', async () => {
    for (const args of [
      ['internet', '--help'],
      ['internet', 'show', '--help'],
      ['internet', 'set', '--help'],
    ]) {
      const r = await runCliInProcess(args);
      assert.equal(r.code, 0, args.join(' '));
      assert.match(r.stdout, new RegExp(`^Usage: quotient ${args.slice(0, -1).join(' ')}`, 'm'));
    }
    assert.match((await runCliInProcess(['internet', 'set', '--help'])).stdout, /^ {2}costPerMb {9}price per MB \(1,048,576 bytes\) in the site currency/m);
  });
});
