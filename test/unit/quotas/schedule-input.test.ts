import assert from 'node:assert/strict';
import { isQuotientError } from '../../../common/errors';
import { localTime, parseDayOfMonth, parseScheduleText, parseWeekday } from '../../../primary/quotas/schedule-input';

/** The field a ValidationError names. */
const refusedField = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    if (isQuotientError(err) && err.code === 'VALIDATION') return String(err.details.field);
    throw err;
  }
  throw new Error('not refused');
};

describe('parseWeekday()', () => {
  it('takes sun..sat, longer names in any case, and 0-7 with 7 as Sunday', () => {
    assert.deepEqual(['sun', 'mon', 'Tue', 'WEDNESDAY', 'thu', 'fri', 'sat'].map(parseWeekday), [0, 1, 2, 3, 4, 5, 6]);
    assert.deepEqual(['0', '1', '6', '7', ' 3 '].map(parseWeekday), [0, 1, 6, 0, 3]);
  });

  it('refuses anything else, naming the weekday field', () => {
    for (const bad of ['mo', 'x', '8', '-1', ''])
      assert.equal(
        refusedField(() => parseWeekday(bad)),
        'weekday',
      );
  });
});

describe('parseDayOfMonth()', () => {
  it('takes one or two digits (QuotaService.create checks 1-31) and refuses the rest', () => {
    assert.deepEqual(['1', '15', '31', '32'].map(parseDayOfMonth), [1, 15, 31, 32]);
    for (const bad of ['', 'first', '1.5', '101'])
      assert.equal(
        refusedField(() => parseDayOfMonth(bad)),
        'day',
      );
  });
});

describe('parseScheduleText()', () => {
  it('turns the text of "$2.00 weekly on Monday for students" into minor units and a weekday number', () => {
    assert.deepEqual(parseScheduleText({ name: 'print-weekly', group: ' students ', period: 'weekly', weekday: 'mon', amount: '2.00' }, 2), {
      name: 'print-weekly',
      group: 'students',
      allUsers: false,
      account: null,
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
  });

  it("reads only the field its period uses, treats empty optional fields as not given, and uses the currency's decimals", () => {
    const monthly = parseScheduleText(
      {
        name: 'n',
        allUsers: true,
        group: '',
        period: 'monthly',
        weekday: 'garbage',
        day: '31',
        at: '06:30',
        cron: 'garbage',
        amount: '10',
        mode: 'add',
        cap: '',
        disabled: true,
      },
      0,
    );
    assert.deepEqual(
      [monthly.group, monthly.allUsers, monthly.weekday, monthly.dayOfMonth, monthly.atTime, monthly.cron, monthly.amount, monthly.cap, monthly.enabled],
      [null, true, null, 31, '06:30', null, 10, null, false],
    );
    const cron = parseScheduleText({ name: 'n', group: 'g', period: 'cron', cron: ' 0 6 * * 1-5 ', amount: '0.5', mode: 'reset', cap: '3' }, 3);
    assert.deepEqual([cron.cron, cron.mode, cron.amount, cron.cap], ['0 6 * * 1-5', 'reset', 500, 3000]);
  });

  it('refuses an unknown period or mode and an amount or cap that is not money, naming the field', () => {
    const base = { name: 'n', group: 'g', period: 'daily', amount: '1.00' };
    assert.equal(
      refusedField(() => parseScheduleText({ ...base, period: 'hourly' }, 2)),
      'period',
    );
    assert.equal(
      refusedField(() => parseScheduleText({ ...base, mode: 'multiply' }, 2)),
      'mode',
    );
    assert.equal(
      refusedField(() => parseScheduleText({ ...base, amount: '1.005' }, 2)),
      'amount',
    );
    assert.equal(
      refusedField(() => parseScheduleText({ ...base, amount: '' }, 2)),
      'amount',
    );
    assert.equal(
      refusedField(() => parseScheduleText({ ...base, cap: 'lots' }, 2)),
      'cap',
    );
  });
});

describe('localTime()', () => {
  it('shows an instant as the local date and time of a zone, across daylight saving', () => {
    assert.equal(localTime(Date.UTC(2026, 11, 7, 5), 'America/New_York'), '2026-12-07 00:00');
    assert.equal(localTime(Date.UTC(2026, 6, 6, 4), 'America/New_York'), '2026-07-06 00:00');
    assert.equal(localTime(null, 'UTC'), '-');
  });
});
