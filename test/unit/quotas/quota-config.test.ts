import assert from 'node:assert/strict';
import { loadPrimaryConfig } from '../../../primary/config';

describe('quota settings in the primary config', () => {
  it('defaults to the system time zone and 7 catch-up days', () => {
    const c = loadPrimaryConfig({ env: {} });
    assert.equal(c.timezone, Intl.DateTimeFormat().resolvedOptions().timeZone);
    assert.equal(c.quotaCatchUpDays, 7);
  });

  it('reads QUOTIENT_TIMEZONE and QUOTIENT_QUOTA_CATCH_UP_DAYS', () => {
    const c = loadPrimaryConfig({ env: { QUOTIENT_TIMEZONE: 'America/New_York', QUOTIENT_QUOTA_CATCH_UP_DAYS: '30' } });
    assert.deepEqual([c.timezone, c.quotaCatchUpDays], ['America/New_York', 30]);
  });

  it('refuses an unknown time zone and a negative catch-up, naming the setting', () => {
    assert.throws(() => loadPrimaryConfig({ env: { QUOTIENT_TIMEZONE: 'Mars/Olympus' } }), /timezone.*IANA time zone/);
    assert.throws(() => loadPrimaryConfig({ env: { QUOTIENT_QUOTA_CATCH_UP_DAYS: '-1' } }), /quotaCatchUpDays/);
  });
});
