/**
 * A shared account's start and expiry days are days in the primary's time zone (config
 * `timezone`), read in one place (parseDay) by the CLI, the import and the web tools: a start day
 * begins at local midnight, an expiry day ends at the next local midnight, also across a
 * daylight-saving change (Europe/London goes from GMT to BST on 2027-03-28 at 01:00 GMT).
 */
import assert from 'node:assert/strict';
import { dayText, parseDay } from '../../../primary/accounts/account-names';
import { createServices, type Services } from '../../../primary/services';
import { describeOnEachDatabase } from '../../utils/databases';
import { accountFor, jobDescription } from '../../utils/fixtures';

const LONDON = 'Europe/London';
const ACTOR = 'cli:admin';

describeOnEachDatabase('shared account days in the primary time zone', (t) => {
  let clock = Date.UTC(2027, 2, 1, 12);
  let s: Services;
  beforeEach(async () => {
    clock = Date.UTC(2027, 2, 1, 12);
    s = createServices(t.db, { now: () => clock, timezone: LONDON });
    await accountFor(s, { username: 'ann', initialCredit: 1000 });
  });

  const verdict = async (code: string): Promise<string> => {
    const o = await s.printing.submit({ kind: 'authorize', secondary: 'print-1', job: jobDescription({ accountCode: code }) });
    return o.kind === 'authorized' ? (o.allowed ? 'allowed' : o.reason) : o.kind;
  };

  it('reads days as local midnights on either side of the change, and shows them back as typed', () => {
    // 28 March begins at 00:00 GMT and ends at 00:00 BST on the 29th, 23 hours later.
    assert.equal(parseDay('2027-03-28', 'starts', false, LONDON), Date.UTC(2027, 2, 28, 0));
    assert.equal(parseDay('2027-03-28', 'expires', true, LONDON), Date.UTC(2027, 2, 28, 23));
    assert.equal(parseDay('2027-03-29', 'starts', false, LONDON), Date.UTC(2027, 2, 28, 23));
    assert.equal(parseDay('2027-03-31', 'expires', true, LONDON), Date.UTC(2027, 2, 31, 23));
    assert.equal(parseDay('none', 'expires', true, LONDON), null);
    assert.equal(dayText(Date.UTC(2027, 2, 28, 23), true, LONDON), '2027-03-28');
    assert.equal(dayText(Date.UTC(2027, 2, 28, 23), false, LONDON), '2027-03-29');
    assert.throws(() => parseDay('2027-02-29', 'expires', true, LONDON), { code: 'VALIDATION', message: 'expires must be a date YYYY-MM-DD or none' });
  });

  it('allows a job at 23:30 local on the expiry day and denies one at 00:30 the next day', async () => {
    const account = await s.accounts.create({ name: 'Spring', code: 'SPRING', expiresAt: parseDay('2027-03-28', 'expires', true, LONDON) }, ACTOR);
    await s.accounts.grant('Spring', { user: 'ann' }, ACTOR);
    assert.equal(account.expiresAt, Date.UTC(2027, 2, 28, 23));
    clock = Date.UTC(2027, 2, 28, 22, 30); // 23:30 BST on the 28th
    assert.equal(await verdict('SPRING'), 'allowed');
    clock = Date.UTC(2027, 2, 28, 23, 30); // 00:30 BST on the 29th: still the 28th in UTC
    assert.equal(await verdict('SPRING'), 'account Spring has expired');
  });

  it('denies a job at 23:30 local the day before the start day and allows one at 00:30 on it', async () => {
    await s.accounts.create({ name: 'Summer', code: 'SUMMER', startsAt: parseDay('2027-03-29', 'starts', false, LONDON) }, ACTOR);
    await s.accounts.grant('Summer', { user: 'ann' }, ACTOR);
    clock = Date.UTC(2027, 2, 28, 22, 30); // 23:30 BST on the 28th
    assert.equal(await verdict('SUMMER'), 'account Summer is not open yet');
    clock = Date.UTC(2027, 2, 28, 23, 30); // 00:30 BST on the 29th
    assert.equal(await verdict('SUMMER'), 'allowed');
  });
});
