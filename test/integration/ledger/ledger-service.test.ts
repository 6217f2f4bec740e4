import assert from 'node:assert/strict';
import { describeOnEachDatabase } from '../../utils/databases';
import { accountFor, servicesFor } from '../../utils/fixtures';
import type { Services } from '../../../primary/services';

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => (err as { code?: string }).code === code);
}

describeOnEachDatabase('LedgerService', (t) => {
  let s: Services;
  beforeEach(() => {
    s = servicesFor(t.db);
  });

  describe('credit() and debit()', () => {
    it('writes one ledger row per change with the balance after it', async () => {
      const acc = await accountFor(s, { username: 'ann', restricted: true });
      const c = await s.ledger.credit({ accountId: acc, amount: 500, type: 'adjustment', key: 'k1', actor: 'admin', comment: 'top-up' });
      const d = await s.ledger.debit({ accountId: acc, amount: 120, type: 'print', key: 'k2', reference: 'job:1' });
      assert.equal(c.balanceAfter, 500);
      assert.equal(d.amount, -120);
      assert.equal(d.balanceAfter, 380);
      assert.equal((await s.ledger.getAccount(acc)).balance, 380);
      const rows = await s.ledger.history(acc);
      assert.deepEqual(
        rows.map((r) => [r.amount, r.balanceAfter, r.type, r.idempotencyKey, r.reference]),
        [
          [-120, 380, 'print', 'k2', 'job:1'],
          [500, 500, 'adjustment', 'k1', null],
        ],
      );
    });

    it('denies a restricted user whose balance would fall below the credit limit, and changes nothing', async () => {
      const acc = await accountFor(s, { username: 'bob', restricted: true, creditLimit: 100, initialCredit: 50 });
      await rejectsWith(s.ledger.debit({ accountId: acc, amount: 151, type: 'print', key: 'x' }), 'INSUFFICIENT_FUNDS');
      assert.equal((await s.ledger.getAccount(acc)).balance, 50);
      const ok = await s.ledger.debit({ accountId: acc, amount: 150, type: 'print', key: 'y' });
      assert.equal(ok.balanceAfter, -100);
      assert.equal((await s.ledger.history(acc)).length, 2);
    });

    it('lets an unrestricted user go negative', async () => {
      const acc = await accountFor(s, { username: 'cat', restricted: false });
      const d = await s.ledger.debit({ accountId: acc, amount: 1000, type: 'print', key: 'k' });
      assert.equal(d.balanceAfter, -1000);
    });

    it('uses the site default credit limit when the account has none', async () => {
      await s.settings.set('accounts.defaultCreditLimit', 200);
      const acc = await accountFor(s, { username: 'dee', restricted: true });
      await s.ledger.debit({ accountId: acc, amount: 200, type: 'print', key: 'a' });
      await rejectsWith(s.ledger.debit({ accountId: acc, amount: 1, type: 'print', key: 'b' }), 'INSUFFICIENT_FUNDS');
    });

    it('rejects non-integer, zero, negative and out-of-range amounts', async () => {
      const acc = await accountFor(s, { username: 'eve' });
      for (const amount of [1.5, 0, -5, Number.NaN, 1e14]) {
        await rejectsWith(s.ledger.credit({ accountId: acc, amount, type: 'adjustment', key: `bad-${amount}` }), 'VALIDATION');
      }
      await rejectsWith(s.ledger.credit({ accountId: acc, amount: 1, type: 'adjustment', key: '' }), 'VALIDATION');
      await rejectsWith(s.ledger.credit({ accountId: acc, amount: 1, type: 'bogus' as 'print', key: 'q' }), 'VALIDATION');
      assert.equal((await s.ledger.history(acc)).length, 0);
    });

    it('reports an unknown account as NOT_FOUND', async () => {
      await rejectsWith(s.ledger.credit({ accountId: 999999, amount: 1, type: 'adjustment', key: 'nf' }), 'NOT_FOUND');
    });
  });

  describe('idempotency keys', () => {
    it('returns the first result for a repeated key and changes nothing', async () => {
      const acc = await accountFor(s, { username: 'fay', restricted: false });
      const first = await s.ledger.debit({ accountId: acc, amount: 75, type: 'print', key: 'job-1' });
      const again = await s.ledger.debit({ accountId: acc, amount: 75, type: 'print', key: 'job-1' });
      assert.equal(first.replayed, false);
      assert.equal(again.replayed, true);
      assert.equal(again.id, first.id);
      assert.equal(again.balanceAfter, -75);
      assert.equal((await s.ledger.getAccount(acc)).balance, -75);
      assert.equal((await s.ledger.history(acc)).length, 1);
    });

    it('refuses a repeated key with a different amount or account', async () => {
      const a = await accountFor(s, { username: 'gil', restricted: false });
      const b = await accountFor(s, { username: 'hal', restricted: false });
      await s.ledger.debit({ accountId: a, amount: 10, type: 'print', key: 'dup' });
      await rejectsWith(s.ledger.debit({ accountId: a, amount: 11, type: 'print', key: 'dup' }), 'IDEMPOTENCY_CONFLICT');
      await rejectsWith(s.ledger.debit({ accountId: b, amount: 10, type: 'print', key: 'dup' }), 'IDEMPOTENCY_CONFLICT');
      assert.equal((await s.ledger.getAccount(b)).balance, 0);
    });

    it('charges once when the same key races with itself', async () => {
      const acc = await accountFor(s, { username: 'ivy', restricted: false });
      const results = await Promise.all(Array.from({ length: 50 }, () => s.ledger.debit({ accountId: acc, amount: 30, type: 'print', key: 'same' })));
      assert.equal(results.filter((r) => !r.replayed).length, 1);
      assert.ok(results.every((r) => r.balanceAfter === -30));
      assert.equal((await s.ledger.getAccount(acc)).balance, -30);
    });
  });

  describe('setBalance() and adjust()', () => {
    it('records the difference, even beyond the credit limit, and replays by key', async () => {
      const acc = await accountFor(s, { username: 'jon', restricted: true, initialCredit: 300 });
      const set = await s.ledger.setBalance({ accountId: acc, balance: -50, key: 'set1', actor: 'admin', comment: 'fix' });
      assert.equal(set.amount, -350);
      assert.equal(set.balanceAfter, -50);
      const replay = await s.ledger.setBalance({ accountId: acc, balance: -50, key: 'set1' });
      assert.equal(replay.replayed, true);
      await rejectsWith(s.ledger.setBalance({ accountId: acc, balance: 10, key: 'set1' }), 'IDEMPOTENCY_CONFLICT');
      const adj = await s.ledger.adjust({ accountId: acc, amount: 25, key: 'adj1', comment: 'goodwill' });
      assert.equal(adj.balanceAfter, -25);
      await rejectsWith(s.ledger.adjust({ accountId: acc, amount: 0, key: 'adj0' }), 'VALIDATION');
    });
  });

  describe('transfer()', () => {
    it('moves credit between accounts as two rows and refuses an overdrawing transfer', async () => {
      const a = await accountFor(s, { username: 'kim', restricted: true, initialCredit: 100 });
      const b = await accountFor(s, { username: 'lee', restricted: true });
      const { from, to } = await s.ledger.transfer({ fromAccountId: a, toAccountId: b, amount: 60, key: 'tr1' });
      assert.deepEqual([from.amount, from.balanceAfter, to.amount, to.balanceAfter], [-60, 40, 60, 60]);
      const replay = await s.ledger.transfer({ fromAccountId: a, toAccountId: b, amount: 60, key: 'tr1' });
      assert.equal(replay.from.replayed && replay.to.replayed, true);
      await rejectsWith(s.ledger.transfer({ fromAccountId: a, toAccountId: b, amount: 41, key: 'tr2' }), 'INSUFFICIENT_FUNDS');
      await rejectsWith(s.ledger.transfer({ fromAccountId: a, toAccountId: a, amount: 1, key: 'tr3' }), 'VALIDATION');
      assert.equal((await s.ledger.getAccount(a)).balance, 40);
      assert.equal((await s.ledger.getAccount(b)).balance, 60);
    });
  });

  describe('reserve() → commit() | release()', () => {
    it('holds credit, then charges the actual amount under the reservation key', async () => {
      const acc = await accountFor(s, { username: 'max', restricted: true, initialCredit: 100 });
      const r = await s.ledger.reserve({ accountId: acc, amount: 80, key: 'job-a', reference: 'job:a' });
      assert.equal(r.state, 'held');
      assert.deepEqual(await s.ledger.getAccount(acc).then((a) => [a.balance, a.reserved]), [100, 80]);
      await rejectsWith(s.ledger.reserve({ accountId: acc, amount: 21, key: 'job-b' }), 'INSUFFICIENT_FUNDS');
      const entry = await s.ledger.commit({ key: 'job-a', amount: 60 });
      assert.deepEqual([entry.amount, entry.balanceAfter, entry.idempotencyKey, entry.reference], [-60, 40, 'job-a', 'job:a']);
      assert.deepEqual(await s.ledger.getAccount(acc).then((a) => [a.balance, a.reserved]), [40, 0]);
      const again = await s.ledger.commit({ key: 'job-a', amount: 60 });
      assert.equal(again.replayed, true);
      assert.equal(again.id, entry.id);
      await rejectsWith(s.ledger.commit({ key: 'job-a', amount: 61 }), 'IDEMPOTENCY_CONFLICT');
      await rejectsWith(s.ledger.release({ key: 'job-a' }), 'INVALID_STATE');
    });

    it('releases a reservation once and refuses to commit it afterwards', async () => {
      const acc = await accountFor(s, { username: 'ned', restricted: true, initialCredit: 100 });
      await s.ledger.reserve({ accountId: acc, amount: 100, key: 'job-r' });
      const released = await s.ledger.release({ key: 'job-r' });
      assert.equal(released.state, 'released');
      assert.equal((await s.ledger.release({ key: 'job-r' })).replayed, true);
      await rejectsWith(s.ledger.commit({ key: 'job-r' }), 'INVALID_STATE');
      assert.deepEqual(await s.ledger.getAccount(acc).then((a) => [a.balance, a.reserved]), [100, 0]);
      await rejectsWith(s.ledger.release({ key: 'nope' }), 'NOT_FOUND');
    });

    it('replays a reservation by key and refuses a different one under the same key', async () => {
      const acc = await accountFor(s, { username: 'oli', restricted: false });
      const a = await s.ledger.reserve({ accountId: acc, amount: 5, key: 'r1' });
      const b = await s.ledger.reserve({ accountId: acc, amount: 5, key: 'r1' });
      assert.equal(b.id, a.id);
      assert.equal(b.replayed, true);
      await rejectsWith(s.ledger.reserve({ accountId: acc, amount: 6, key: 'r1' }), 'IDEMPOTENCY_CONFLICT');
      assert.equal((await s.ledger.getAccount(acc)).reserved, 5);
    });
  });

  describe('under concurrency', () => {
    it('lets exactly as many of 300 racing debits through as the credit limit allows', async function () {
      this.timeout(120000);
      // Balance 1000, overdraft 500: 1500 spendable, 300 debits of 7 → floor(1500/7) = 214 succeed.
      const acc = await accountFor(s, { username: 'race', restricted: true, creditLimit: 500, initialCredit: 1000 });
      const outcomes = await Promise.allSettled(
        Array.from({ length: 300 }, (_, i) => s.ledger.debit({ accountId: acc, amount: 7, type: 'print', key: `race-${i}` })),
      );
      const ok = outcomes.filter((o) => o.status === 'fulfilled').length;
      const refused = outcomes.filter((o) => o.status === 'rejected' && (o.reason as { code?: string }).code === 'INSUFFICIENT_FUNDS').length;
      assert.equal(ok, 214);
      assert.equal(refused, 86);
      const account = await s.ledger.getAccount(acc);
      assert.equal(account.balance, 1000 - 214 * 7);
      const rows = await s.ledger.history(acc, { limit: 1000 });
      assert.equal(rows.length, 215);
      assert.equal(
        rows.reduce((sum, r) => sum + r.amount, 0),
        account.balance,
      );
      const verify = await s.ledger.verify();
      assert.deepEqual(verify.problems, []);
    });

    it('keeps reservations within the limit while commits and releases race', async function () {
      this.timeout(120000);
      const acc = await accountFor(s, { username: 'rr', restricted: true, initialCredit: 1000 });
      const reserved = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => s.ledger.reserve({ accountId: acc, amount: 10, key: `job-${i}` })));
      const held = reserved.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<{ idempotencyKey: string }>).value.idempotencyKey);
      assert.equal(held.length, 100);
      // Half commit at 8 (fewer pages than analysed), half release; all at once, each twice.
      await Promise.all(
        held.flatMap((key, i): Promise<unknown>[] =>
          i % 2 === 0 ? [s.ledger.commit({ key, amount: 8 }), s.ledger.commit({ key, amount: 8 })] : [s.ledger.release({ key }), s.ledger.release({ key })],
        ),
      );
      const account = await s.ledger.getAccount(acc);
      assert.equal(account.reserved, 0);
      assert.equal(account.balance, 1000 - 50 * 8);
      assert.deepEqual((await s.ledger.verify()).problems, []);
    });
  });

  describe('verify()', () => {
    it('finds an account whose balance was changed outside the ledger', async () => {
      const acc = await accountFor(s, { username: 'tam', initialCredit: 100 });
      assert.deepEqual((await s.ledger.verify()).problems, []);
      await t.db.knex('accounts').where({ id: acc }).update({ balance: 101 });
      const result = await s.ledger.verify();
      assert.equal(result.problems.length, 2);
      assert.match(result.problems[0]?.problem ?? '', /balance 101 but ledger sums to 100/);
    });
  });
});
