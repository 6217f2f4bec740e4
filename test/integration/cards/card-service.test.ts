/**
 * Top-up cards on each dialect, with the clock injected: a card credits its value once, as one
 * `card` ledger row and one audit row, however many requests race for it; unknown, mistyped,
 * used, expired and disabled cards are refused with their reason and change nothing; wrong
 * numbers are throttled per user and per address by the written rule (card-throttle.ts).
 */
import assert from 'node:assert/strict';
import { listAudit } from '../../../primary/audit/audit-log';
import { dammDigit, groupCardNumber } from '../../../primary/cards/card-number';
import type { RedeemResult } from '../../../primary/cards/card-service';
import { createServices, type Services } from '../../../primary/services';
import { describeOnEachDatabase } from '../../utils/databases';

const MINUTE = 60_000;
/** 2027-01-10 12:00 UTC. */
const START = Date.UTC(2027, 0, 10, 12);

/** A well-formed number (right check digit) that no batch holds. */
const unknownNumber = (n: number): string => {
  const digits = String(1_000_000_000_000_000_000n + BigInt(n)).slice(0, 19);
  return digits + String(dammDigit(digits));
};

describeOnEachDatabase('top-up cards', (t) => {
  let clock = START;
  let s: Services;
  let annId: number;
  let bobId: number;

  beforeEach(async () => {
    clock = START;
    s = createServices(t.db, { now: () => clock, timezone: 'UTC' });
    annId = (await s.users.createUser({ username: 'ann', initialCredit: 150, restricted: true })).id;
    bobId = (await s.users.createUser({ username: 'bob', initialCredit: 0, restricted: true })).id;
  });

  const batch = async (name: string, count: number, value = 1000, expiresOn = '2027-06-30'): Promise<string[]> =>
    (await s.cards.generate({ name, value, expiresOn, actor: 'cli:root' }, count)).numbers;

  const cardRows = async (): Promise<{ account: number; amount: number; after: number; key: string; actor: string }[]> =>
    ((await t.db.knex('ledger').where({ type: 'card' }).orderBy('id')) as Record<string, unknown>[]).map((r) => ({
      account: Number(r.account_id),
      amount: Number(r.amount),
      after: Number(r.balance_after),
      key: String(r.idempotency_key),
      actor: String(r.actor),
    }));

  const refusal = (r: RedeemResult): string => (r.redeemed ? 'redeemed' : r.reason);

  it('generates unguessable 20-digit numbers with a Damm check digit, stored as one audited batch', async () => {
    const numbers = await batch('spring', 50);
    assert.equal(new Set(numbers).size, 50);
    for (const n of numbers) {
      assert.match(n, /^\d{20}$/);
      assert.equal(dammDigit(n), 0);
    }
    assert.match(groupCardNumber(numbers[0]!), /^\d{5}-\d{5}-\d{5}-\d{5}$/);
    const [listed] = await s.cards.list();
    assert.deepEqual(
      { name: listed?.name, value: listed?.value, expiresOn: listed?.expiresOn, counts: listed?.counts },
      { name: 'spring', value: 1000, expiresOn: '2027-06-30', counts: { total: 50, redeemed: 0, unused: 50, expired: 0 } },
    );
    const audit = await listAudit(t.db.knex, { targetType: 'card_batch' });
    assert.deepEqual(
      audit.map((a) => [a.action, a.targetId, a.details]),
      [['card_batch.create', 'spring', { source: 'generated', count: 50, value: 1000, expiresOn: '2027-06-30' }]],
    );
  });

  it('credits a card redeemed by 20 concurrent requests exactly once', async () => {
    const [number] = await batch('race', 1, 1000);
    const results = await Promise.all(Array.from({ length: 20 }, () => s.cards.redeem({ userId: annId, number: number!, address: '10.0.0.7' })));
    assert.deepEqual(results.map(refusal).sort(), ['redeemed', ...Array<string>(19).fill('used')].sort());
    const account = await s.users.personalAccount(annId);
    assert.deepEqual(await cardRows(), [
      { account: account.id, amount: 1000, after: 1150, key: `card:${(await t.db.knex('topup_cards').first('id')).id}`, actor: 'ann' },
    ]);
    assert.equal(account.balance, 1150);
    assert.equal((await listAudit(t.db.knex, { targetType: 'card_batch' })).filter((a) => a.action === 'card.redeem').length, 1);
    const { cards } = await s.cards.show('race');
    assert.deepEqual(
      cards.map((c) => [c.state, c.redeemedBy, c.redeemedAt]),
      [['redeemed', 'ann', START]],
    );
    // Used cards are not guesses: nobody was throttled.
    assert.equal(await s.cards.throttle.lockedFor(['user:' + annId, 'ip:10.0.0.7']), 0);
    assert.deepEqual((await s.ledger.verify()).problems, []);
  });

  it('ignores spaces and dashes, and refuses unknown, mistyped, used, expired and disabled cards with their reason, changing nothing', async () => {
    const [first, second] = await batch('summer', 2, 500, '2027-01-31');
    const [off] = await batch('off', 1, 700);
    await s.cards.disable('off', 'cli:root');

    const typed = ` ${groupCardNumber(first!).replace(/-/g, ' - ')} `;
    const ok = await s.cards.redeem({ userId: annId, number: typed });
    assert.ok(ok.redeemed);
    assert.deepEqual([ok.amount, ok.batch, ok.entry.balanceAfter, ok.entry.comment], [500, 'summer', 650, `top-up card …${first!.slice(-5)} (batch summer)`]);

    assert.equal(refusal(await s.cards.redeem({ userId: bobId, number: first! })), 'used');
    assert.equal(refusal(await s.cards.redeem({ userId: bobId, number: unknownNumber(1) })), 'unknown');
    const wrongCheck = second!.slice(0, 19) + String((Number(second!.slice(19)) + 1) % 10);
    assert.equal(refusal(await s.cards.redeem({ userId: bobId, number: wrongCheck })), 'mistyped');
    assert.equal(refusal(await s.cards.redeem({ userId: bobId, number: 'not a card!' })), 'mistyped');
    assert.equal(refusal(await s.cards.redeem({ userId: bobId, number: off! })), 'disabled');
    clock = Date.UTC(2027, 1, 1, 0, 0); // the day after
    assert.equal(refusal(await s.cards.redeem({ userId: bobId, number: second! })), 'expired');

    assert.equal((await s.users.personalAccount(bobId)).balance, 0);
    assert.equal((await cardRows()).length, 1);
    const byName = Object.fromEntries((await s.cards.list()).map((b) => [b.name, [b.disabled, b.counts]]));
    assert.deepEqual(byName, {
      summer: [false, { total: 2, redeemed: 1, unused: 0, expired: 1 }],
      off: [true, { total: 1, redeemed: 0, unused: 1, expired: 0 }],
    });
    // Disabling again changes nothing and is not audited again.
    assert.deepEqual(await s.cards.disable('off', 'cli:root'), { changed: false });
    const audit = await listAudit(t.db.knex, { targetType: 'card_batch' });
    assert.deepEqual(audit.map((a) => a.action).sort(), ['card.redeem', 'card_batch.create', 'card_batch.create', 'card_batch.disable']);
    assert.deepEqual((await s.ledger.verify()).problems, []);
  });

  it('a card is valid through its expiry day in the primary time zone', async () => {
    const [number] = await batch('last-day', 1, 300, '2027-01-10');
    clock = Date.UTC(2027, 0, 10, 23, 59);
    assert.equal(refusal(await s.cards.redeem({ userId: bobId, number: number! })), 'redeemed');
  });

  it('locks a user out for 15 minutes after 5 wrong numbers, then for 30, and refuses even a good card meanwhile', async () => {
    const [good] = await batch('good', 1, 200);
    for (let i = 1; i <= 4; i++) assert.equal(refusal(await s.cards.redeem({ userId: bobId, number: unknownNumber(i) })), 'unknown');
    clock += 5 * MINUTE;
    assert.equal(refusal(await s.cards.redeem({ userId: bobId, number: unknownNumber(5) })), 'unknown');
    const locked = await s.cards.redeem({ userId: bobId, number: good! });
    assert.deepEqual(locked, { redeemed: false, reason: 'throttled', retryAfterMs: 15 * MINUTE });
    // Ann is not bound by Bob's lock-out.
    assert.equal(refusal(await s.cards.redeem({ userId: annId, number: unknownNumber(6) })), 'unknown');

    clock += 15 * MINUTE;
    for (let i = 7; i <= 11; i++) assert.equal(refusal(await s.cards.redeem({ userId: bobId, number: unknownNumber(i) })), 'unknown');
    assert.deepEqual(await s.cards.redeem({ userId: bobId, number: good! }), { redeemed: false, reason: 'throttled', retryAfterMs: 30 * MINUTE });
    clock += 30 * MINUTE;
    assert.equal(refusal(await s.cards.redeem({ userId: bobId, number: good! })), 'redeemed');
    assert.equal((await s.users.personalAccount(bobId)).balance, 200);
  });

  it('lets exactly 5 of 20 concurrent wrong numbers from one user through, and throttles the other 15', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => s.cards.redeem({ userId: bobId, number: unknownNumber(i + 1) })));
    const reasons = results.map(refusal);
    assert.equal(reasons.filter((r) => r === 'unknown').length, 5);
    assert.equal(reasons.filter((r) => r === 'throttled').length, 15);
    assert.equal(await s.cards.throttle.lockedFor([`user:${bobId}`]), 15 * MINUTE, 'one lock-out of 15 minutes, not a second');
    const row = (await t.db
      .knex('topup_card_failures')
      .where({ throttle_key: `user:${bobId}` })
      .first()) as Record<string, unknown>;
    assert.deepEqual([Number(row.failures), Number(row.lockouts)], [0, 1]);
  });

  it('counts failures in windows of 15 minutes, and forgets a user after a day without one', async () => {
    for (let i = 1; i <= 4; i++) await s.cards.redeem({ userId: bobId, number: unknownNumber(i) });
    clock += 15 * MINUTE; // the window has ended: four more are allowed
    for (let i = 5; i <= 8; i++) assert.equal(refusal(await s.cards.redeem({ userId: bobId, number: unknownNumber(i) })), 'unknown');
    assert.equal(await s.cards.throttle.lockedFor([`user:${bobId}`]), 0);
    assert.equal(refusal(await s.cards.redeem({ userId: bobId, number: unknownNumber(9) })), 'unknown');
    assert.equal(await s.cards.throttle.lockedFor([`user:${bobId}`]), 15 * MINUTE);
    clock += 24 * 60 * MINUTE;
    for (let i = 10; i <= 14; i++) await s.cards.redeem({ userId: bobId, number: unknownNumber(i) });
    assert.equal(await s.cards.throttle.lockedFor([`user:${bobId}`]), 15 * MINUTE, 'a first lock-out again, not a second');
  });

  it('locks an address after 20 wrong numbers from it in 15 minutes, whichever users sent them', async () => {
    const [good] = await batch('lab', 1, 100);
    const users = [annId, bobId];
    for (let i = 0; i < 4; i++) users.push((await s.users.createUser({ username: `u${i}` })).id);
    // 6 users x 3 failures (none reaches its own limit of 5), then 2 more: 20 from the address.
    let n = 0;
    for (const userId of users) for (let k = 0; k < 3; k++) await s.cards.redeem({ userId, number: unknownNumber(++n), address: '192.0.2.9' });
    await s.cards.redeem({ userId: annId, number: unknownNumber(++n), address: '192.0.2.9' });
    assert.equal(refusal(await s.cards.redeem({ userId: bobId, number: good!, address: '192.0.2.10' })), 'redeemed', 'another address is free');
    const [good2] = await batch('lab2', 1, 100);
    await s.cards.redeem({ userId: bobId, number: unknownNumber(++n), address: '192.0.2.9' });
    assert.deepEqual(await s.cards.redeem({ userId: users[2]!, number: good2!, address: '192.0.2.9' }), {
      redeemed: false,
      reason: 'throttled',
      retryAfterMs: 15 * MINUTE,
    });
  });

  it('imports numbers all or nothing, naming each broken row by its line, with a dry run', async () => {
    const [existing] = await batch('old', 1);
    const good = [unknownNumber(1), groupCardNumber(unknownNumber(2)), 'AB12-CD34'];
    const lines = [
      { line: 2, number: good[0]! },
      { line: 3, number: good[1]! },
      { line: 4, number: good[2]! },
      { line: 5, number: '' },
      { line: 6, number: 'abc' },
      { line: 7, number: unknownNumber(1) },
      { line: 8, number: existing! },
      { line: 9, number: unknownNumber(3).slice(0, 19) + String((Number(unknownNumber(3).slice(19)) + 1) % 10) },
    ];
    const newBatch = { name: 'vendor', value: 500, expiresOn: '2027-12-31', actor: 'cli:root' };
    const refused = await s.cards.importNumbers(newBatch, lines, { dryRun: false });
    assert.deepEqual(refused.problems, [
      { line: 5, reason: 'no card number' },
      { line: 6, reason: 'not a card number: 6 to 32 digits or letters (spaces and dashes are ignored)' },
      { line: 7, reason: 'the same number as line 2' },
      { line: 8, reason: 'already a card, in batch old' },
      { line: 9, reason: 'the number fails its check digit (a typing mistake?)' },
    ]);
    assert.equal(refused.written, false);
    assert.deepEqual(
      (await s.cards.list()).map((b) => b.name),
      ['old'],
    );
    const dry = await s.cards.importNumbers(newBatch, lines.slice(0, 3), { dryRun: true });
    assert.deepEqual([dry.numbers, dry.written], [[unknownNumber(1), unknownNumber(2), 'AB12CD34'], false]);
    assert.equal((await s.cards.list()).length, 1);
    const done = await s.cards.importNumbers(newBatch, lines.slice(0, 3), { dryRun: false });
    assert.equal(done.written, true);
    assert.equal(refusal(await s.cards.redeem({ userId: bobId, number: 'ab12 cd34' })), 'redeemed');
    assert.equal((await s.users.personalAccount(bobId)).balance, 500);
  });
});
