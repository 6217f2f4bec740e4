import assert from 'node:assert/strict';
import { describeOnEachDatabase } from '../../utils/databases';
import { accountFor, jobDescription, servicesFor } from '../../utils/fixtures';
import type { Services } from '../../../primary/services';

const SECONDARY = 'print-1';
const ACTOR = 'cli:admin';

describeOnEachDatabase('shared accounts', (t) => {
  let s: Services;
  beforeEach(() => {
    s = servicesFor(t.db);
  });

  const funded = async (name: string, amount: number, settings: Parameters<Services['accounts']['create']>[0] = { name }): Promise<number> => {
    const account = await s.accounts.create({ ...settings, name }, ACTOR);
    if (amount !== 0) await s.balances.adjust({ accountId: account.id, amount, comment: 'budget', key: `test:fund:${name}`, actor: ACTOR });
    return account.id;
  };
  const money = async (accountId: number): Promise<[number, number]> => {
    const a = await s.ledger.getAccount(accountId);
    return [a.balance, a.reserved];
  };
  const authorize = (accountCode: string, overrides: Partial<Parameters<typeof jobDescription>[0]> = {}) =>
    s.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: jobDescription({ accountCode, ...overrides }) });

  describe('the service', () => {
    it('creates hierarchical names under an existing parent, unique without regard to case, and refuses bad names', async () => {
      await s.accounts.create({ name: 'Science', code: 'sci' }, ACTOR);
      const sub = await s.accounts.create({ name: ' Science \\ Physics "Lab" / 2 ', code: 'PHY.2', pin: '0042' }, ACTOR);
      assert.deepEqual([sub.name, sub.parent, sub.code, sub.pin], ['Science\\Physics "Lab" / 2', 'Science', 'PHY.2', '0042']);
      const parent = await t.db.knex('accounts').where({ name: 'Science' }).first('id');
      assert.equal((await t.db.knex('accounts').where({ id: sub.id }).first('parent_id')).parent_id, parent.id);
      await assert.rejects(s.accounts.create({ name: 'Art\\Design' }, ACTOR), { code: 'NOT_FOUND', message: /parent account/ });
      for (const name of ['', 'a\\\\b', '\\a', 'a\\', 'x'.repeat(256)]) await assert.rejects(s.accounts.create({ name }, ACTOR), { code: 'VALIDATION' });
      await assert.rejects(s.accounts.create({ name: 'SCIENCE' }, ACTOR), { code: 'ALREADY_EXISTS' });
      await assert.rejects(s.accounts.create({ name: 'Other', code: 'Sci' }, ACTOR), { code: 'ALREADY_EXISTS', message: /SCI/ });
      await assert.rejects(s.accounts.create({ name: 'Other', code: 'A-B' }, ACTOR), { code: 'VALIDATION' });
      await assert.rejects(s.accounts.create({ name: 'Other', expiresAt: Date.now() - 1000 }, ACTOR), { code: 'VALIDATION', message: /past/ });
      assert.deepEqual(
        (await s.accounts.list()).map((a) => a.name),
        ['Science', 'Science\\Physics "Lab" / 2'],
      );
      assert.deepEqual(
        (await s.accounts.list({ search: 'phy' })).map((a) => a.code),
        ['PHY.2'],
      );
      const audit = await t.db.knex('audit_log').where({ action: 'account.create' }).orderBy('id').select('target_id', 'details');
      assert.deepEqual(
        audit.map((r) => [r.target_id, JSON.parse(r.details)]),
        [
          ['Science', { code: 'SCI' }],
          ['Science\\Physics "Lab" / 2', { code: 'PHY.2', pin: 'set' }],
        ],
      );
    });

    it('grants and revokes access, lists what a user may charge, and keeps the active account by the written rule', async () => {
      await accountFor(s, { username: 'ann', groups: [] });
      await s.groups.create({ name: 'physics' }, ACTOR);
      await s.groups.addMembers('physics', ['ann'], ACTOR);
      await s.accounts.create({ name: 'Zoology' }, ACTOR);
      await s.accounts.create({ name: 'biology' }, ACTOR);
      await s.accounts.create({ name: 'Closed', expiresAt: Date.now() + 60_000 }, ACTOR);
      assert.equal((await s.accounts.active('ann')).type, 'personal');
      await s.accounts.grant('Zoology', { group: 'physics' }, ACTOR);
      assert.deepEqual(await s.accounts.grant('Biology', { user: 'ann' }, ACTOR), { everyone: false, users: ['ann'], groups: [] });
      await s.accounts.grant('Closed', { everyone: true }, ACTOR);
      await s.accounts.update('Closed', { enabled: false }, ACTOR);
      assert.deepEqual(
        (await s.accounts.chargeable('ann')).map((a) => [a.type, a.name]),
        [
          ['personal', 'ann'],
          ['shared', 'biology'],
          ['shared', 'Zoology'],
        ],
      );
      assert.deepEqual(await s.accounts.active('ann'), {
        id: (await s.accounts.get('biology')).id,
        type: 'shared',
        name: 'biology',
        code: null,
        chosen: false,
      });
      await s.accounts.setActive('ann', 'zoology', ACTOR);
      assert.equal((await s.accounts.active('ann')).name, 'Zoology');
      await s.accounts.revoke('Zoology', { group: 'physics' }, ACTOR);
      assert.deepEqual([(await s.accounts.active('ann')).name, (await s.accounts.active('ann')).chosen], ['biology', false]);
      await s.accounts.setActive('ann', 'personal', ACTOR);
      assert.deepEqual([(await s.accounts.active('ann')).name, (await s.accounts.active('ann')).chosen], ['ann', true]);
      await assert.rejects(s.accounts.setActive('ann', 'Closed', ACTOR), { code: 'VALIDATION', message: 'ann may not charge account Closed' });
      const actions = await t.db.knex('audit_log').where('action', 'like', 'account.%').orderBy('id').pluck('action');
      assert.deepEqual(actions, [
        'account.create',
        'account.create',
        'account.create',
        'account.grant',
        'account.grant',
        'account.grant',
        'account.update',
        'account.active',
        'account.revoke',
        'account.active',
      ]);
    });

    it("adjusts and sets a shared account's balance with one ledger row and one audit row each", async () => {
      const id = await funded('Science', 5000);
      const set = await s.balances.set({ accountId: id, balance: 1234, comment: 'new year', key: 'test:set', actor: ACTOR });
      assert.deepEqual([set.name, set.entry.amount, set.entry.balanceAfter], ['Science', -3766, 1234]);
      const rows = await t.db.knex('ledger').where({ account_id: id }).orderBy('id').select('amount', 'balance_after', 'type');
      assert.deepEqual(
        rows.map((r) => [Number(r.amount), Number(r.balance_after), r.type]),
        [
          [5000, 5000, 'adjustment'],
          [-3766, 1234, 'adjustment'],
        ],
      );
      const audit = await t.db
        .knex('audit_log')
        .where({ target_type: 'account', target_id: 'Science' })
        .whereIn('action', ['balance.adjust', 'balance.set'])
        .pluck('action');
      assert.deepEqual(audit, ['balance.adjust', 'balance.set']);
    });
  });

  describe('the charge path', () => {
    it('charges the account a job names (CODE-PIN), at its cost multiplier, and stores it on the job; the personal account is untouched', async () => {
      const personal = await accountFor(s, { username: 'ann', initialCredit: 100 });
      const id = await funded('Science', 1000, { name: 'Science', code: 'SCI', pin: '007', multiplierBp: 15000 });
      await s.accounts.grant('Science', { user: 'ann' }, ACTOR);
      const j = jobDescription({ accountCode: 'sci-007', pages: 2 });
      assert.deepEqual(await s.printing.submit({ kind: 'authorize', secondary: SECONDARY, job: j }), {
        kind: 'authorized',
        jobId: j.jobId,
        allowed: true,
        reason: '',
        cost: 30,
        charged: true,
      });
      assert.deepEqual(await money(id), [1000, 30]);
      await s.printing.submit({ kind: 'commit', secondary: SECONDARY, jobId: j.jobId });
      assert.deepEqual(await money(id), [970, 0]);
      assert.deepEqual(await money(personal), [100, 0]);
      const job = await t.db.knex('print_jobs').where({ job_uuid: j.jobId }).first('account_id', 'multiplier_bp', 'cost');
      assert.deepEqual([job.account_id, job.multiplier_bp, Number(job.cost)], [id, 15000, 30]);
      const rows = await t.db.knex('ledger').where({ type: 'print' }).select('account_id', 'amount', 'balance_after', 'idempotency_key');
      assert.deepEqual(
        rows.map((r) => [r.account_id, Number(r.amount), Number(r.balance_after), r.idempotency_key]),
        [[id, -30, 970, `print:${j.jobId}`]],
      );
      assert.deepEqual((await s.ledger.verify()).problems, []);
    });

    it('charges the active account when the job names none, and the personal account once the user chooses it', async () => {
      const personal = await accountFor(s, { username: 'ann', initialCredit: 100 });
      const bio = await funded('Biology', 500);
      const zoo = await funded('Zoology', 500);
      for (const name of ['Zoology', 'Biology']) await s.accounts.grant(name, { everyone: true }, ACTOR);
      const first = await authorize('');
      await s.accounts.setActive('ann', 'Zoology', ACTOR);
      const second = await authorize('');
      await s.accounts.setActive('ann', 'personal', ACTOR);
      const third = await authorize('');
      assert.deepEqual(
        [first, second, third].map((o) => o.kind === 'authorized' && o.allowed),
        [true, true, true],
      );
      assert.deepEqual(
        [await money(bio), await money(zoo), await money(personal)],
        [
          [500, 30],
          [500, 30],
          [100, 30],
        ],
      );
      for (const o of [first, second, third]) await s.printing.submit({ kind: 'release', secondary: SECONDARY, jobId: o.jobId, reason: 'cancelled' });
      assert.deepEqual(
        [await money(bio), await money(zoo), await money(personal)],
        [
          [500, 0],
          [500, 0],
          [100, 0],
        ],
      );
    });

    it('denies a job naming an account it may not use, with the reason, and charges nothing', async () => {
      await accountFor(s, { username: 'ann', initialCredit: 100 });
      await s.accounts.create({ name: 'Locked', code: 'LOCK', pin: '0042' }, ACTOR);
      await s.accounts.create({ name: 'Old', code: 'OLD' }, ACTOR);
      await s.accounts.create({ name: 'Later', code: 'LATER', startsAt: Date.UTC(2999, 0, 1) }, ACTOR);
      await s.accounts.create({ name: 'Private', code: 'PRIV' }, ACTOR);
      for (const name of ['Locked', 'Old', 'Later']) await s.accounts.grant(name, { user: 'ann' }, ACTOR);
      await s.accounts.archive('Old', ACTOR);
      const reasons: string[] = [];
      for (const code of ['NOPE', 'PRIV', 'OLD', 'LATER', 'LOCK', 'LOCK-42', 'lock-0042']) {
        const o = await authorize(code);
        reasons.push(o.kind === 'authorized' ? (o.allowed ? 'allowed' : o.reason) : o.kind);
      }
      assert.deepEqual(reasons, [
        'no account has the code NOPE',
        'you may not charge account PRIV',
        'account Old is archived',
        'account Later is not open yet',
        'account LOCK needs its PIN: print with job-account-id=LOCK-PIN',
        'wrong PIN for account LOCK',
        'allowed',
      ]);
      assert.equal(
        await t.db
          .knex('ledger')
          .where({ type: 'print' })
          .count({ n: '*' })
          .first()
          .then((r) => Number(r?.n)),
        0,
      );
      const held = await t.db.knex('reservations').select('account_id', 'amount');
      assert.deepEqual(
        held.map((r) => [r.account_id, Number(r.amount)]),
        [[(await s.accounts.get('Locked')).id, 30]],
      );
    });

    it('denies a restricted shared account that would fall below minus its credit limit', async () => {
      await accountFor(s, { username: 'ann', initialCredit: 100 });
      const id = await funded('Science', 20, { name: 'Science', code: 'SCI', restricted: true, creditLimit: 15 });
      await s.accounts.grant('Science', { everyone: true }, ACTOR);
      const ok = await authorize('SCI', { pages: 3 });
      const refused = await authorize('SCI', { pages: 1 });
      assert.equal(ok.kind === 'authorized' && ok.allowed, true);
      assert.equal(refused.kind === 'authorized' && refused.reason, 'not enough credit in account Science: this job costs $0.10 and it has $0.05 available');
      assert.deepEqual(await money(id), [20, 30]);
    });
  });
});
