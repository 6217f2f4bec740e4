import assert from 'node:assert/strict';
import { checkSpec, cronOf, nextStarts, occurrences, periodStartAt, validateCron, type PeriodSpec } from '../../../primary/quotas/periods';

const iso = (ms: number[]): string[] => ms.map((m) => new Date(m).toISOString());
const t = (s: string): number => Date.parse(s);
const spec = (p: Partial<PeriodSpec>): PeriodSpec => ({ period: 'daily', weekday: null, dayOfMonth: null, atTime: '00:00', cron: null, ...p });

describe('quota periods', () => {
  describe('cronOf()', () => {
    it('turns daily, weekly and monthly schedules into cron expressions', () => {
      assert.equal(cronOf(spec({ atTime: '02:30' })), '30 2 * * *');
      assert.equal(cronOf(spec({ period: 'weekly', weekday: 1 })), '0 0 * * 1');
      assert.equal(cronOf(spec({ period: 'monthly', dayOfMonth: 15 })), '0 0 15 * *');
      assert.equal(cronOf(spec({ period: 'monthly', dayOfMonth: 31 })), '0 0 31,L * *');
    });
  });

  describe('validation', () => {
    it('rejects bad cron expressions with a message that names the problem', () => {
      assert.throws(
        () => validateCron('61 * * * *'),
        (e: Error) => /not a valid cron expression/.test(e.message) && (e as { code?: string }).code === 'VALIDATION',
      );
      assert.throws(() => validateCron('* * *'), /five fields/);
      assert.throws(() => validateCron('0 0 * * * *'), /five fields/);
      assert.doesNotThrow(() => validateCron('0 6 * * 1-5'));
    });

    it('rejects weekly without a weekday, monthly outside 1-31 and a bad time of day', () => {
      assert.throws(() => checkSpec(spec({ period: 'weekly' })), /weekday/);
      assert.throws(() => checkSpec(spec({ period: 'monthly', dayOfMonth: 32 })), /day of the month/);
      assert.throws(() => checkSpec(spec({ atTime: '24:00' })), /HH:MM/);
      assert.throws(() => checkSpec(spec({ period: 'cron', cron: 'nope' })), /cron/);
    });
  });

  describe('period boundaries', () => {
    it('counts an occurrence exactly at the upper bound and not at the lower one', () => {
      const s = spec({});
      assert.deepEqual(iso(occurrences(s, 'UTC', t('2026-01-01T00:00:00Z'), t('2026-01-03T00:00:00Z'))), [
        '2026-01-02T00:00:00.000Z',
        '2026-01-03T00:00:00.000Z',
      ]);
      assert.equal(periodStartAt(s, 'UTC', t('2026-01-03T00:00:00Z')), t('2026-01-03T00:00:00Z'));
      assert.equal(periodStartAt(s, 'UTC', t('2026-01-02T23:59:59.999Z')), t('2026-01-02T00:00:00Z'));
    });

    it('computes periods in the configured time zone', () => {
      assert.deepEqual(iso(nextStarts(spec({}), 'Europe/Paris', t('2026-01-01T12:00:00Z'), 2)), ['2026-01-01T23:00:00.000Z', '2026-01-02T23:00:00.000Z']);
    });
  });

  describe('daylight-saving changes', () => {
    it('runs a daily 02:30 schedule once on the New York spring-forward day, at 03:30 EDT', () => {
      const got = occurrences(spec({ atTime: '02:30' }), 'America/New_York', t('2026-03-07T00:00:00Z'), t('2026-03-10T00:00:00Z'));
      assert.deepEqual(iso(got), ['2026-03-07T07:30:00.000Z', '2026-03-08T07:30:00.000Z', '2026-03-09T06:30:00.000Z']);
    });

    it('runs a daily 01:30 schedule once on the New York fall-back day (the first 01:30)', () => {
      const got = occurrences(spec({ atTime: '01:30' }), 'America/New_York', t('2026-10-31T00:00:00Z'), t('2026-11-03T00:00:00Z'));
      assert.deepEqual(iso(got), ['2026-10-31T05:30:00.000Z', '2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z']);
    });

    it('keeps a weekly Monday 00:00 London schedule on local midnight across the change', () => {
      const got = occurrences(spec({ period: 'weekly', weekday: 1 }), 'Europe/London', t('2026-03-20T00:00:00Z'), t('2026-04-07T00:00:00Z'));
      assert.deepEqual(iso(got), ['2026-03-23T00:00:00.000Z', '2026-03-29T23:00:00.000Z', '2026-04-05T23:00:00.000Z']);
    });
  });

  describe('month ends', () => {
    it('runs monthly-on-the-31st on the last day of shorter months', () => {
      const got = occurrences(spec({ period: 'monthly', dayOfMonth: 31 }), 'UTC', t('2026-01-01T00:00:00Z'), t('2026-07-01T00:00:00Z'));
      assert.deepEqual(
        iso(got),
        ['2026-01-31', '2026-02-28', '2026-03-31', '2026-04-30', '2026-05-31', '2026-06-30'].map((d) => `${d}T00:00:00.000Z`),
      );
    });

    it('runs monthly-on-the-30th once a month (not also on the 31st)', () => {
      const got = occurrences(spec({ period: 'monthly', dayOfMonth: 30 }), 'UTC', t('2026-01-01T00:00:00Z'), t('2026-04-01T00:00:00Z'));
      assert.deepEqual(
        iso(got),
        ['2026-01-30', '2026-02-28', '2026-03-30'].map((d) => `${d}T00:00:00.000Z`),
      );
    });

    it('runs monthly-on-the-29th on 29 February in a leap year and on the 28th otherwise', () => {
      const s = spec({ period: 'monthly', dayOfMonth: 29 });
      assert.deepEqual(iso(occurrences(s, 'UTC', t('2028-02-01T00:00:00Z'), t('2028-03-01T00:00:00Z'))), ['2028-02-29T00:00:00.000Z']);
      assert.deepEqual(iso(occurrences(s, 'UTC', t('2027-02-01T00:00:00Z'), t('2027-03-01T00:00:00Z'))), ['2027-02-28T00:00:00.000Z']);
    });

    it('runs month ends in local time (Europe/London, 31st at 00:00 BST)', () => {
      const got = occurrences(spec({ period: 'monthly', dayOfMonth: 31 }), 'Europe/London', t('2026-04-01T00:00:00Z'), t('2026-06-01T00:00:00Z'));
      assert.deepEqual(iso(got), ['2026-04-29T23:00:00.000Z', '2026-05-30T23:00:00.000Z']);
    });
  });
});
