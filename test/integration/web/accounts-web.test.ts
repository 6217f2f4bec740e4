/**
 * The shared-account pages over HTTP on a real primary (one per dialect; each test starts from
 * empty tables): an administrator creates, changes, archives and funds shared accounts and
 * grants access through /admin/accounts, the user sees and chooses among the accounts on
 * /accounts, each change leaves exactly its ledger and audit rows, and bad input is answered
 * with the field's message and changes nothing.
 */
import assert from 'node:assert/strict';
import type { RunningPrimary } from '../../../primary/boot';
import { describeOnEachDatabase } from '../../utils/databases';
import { sharedPrimary } from '../../utils/primary';
import { localTime } from '../../../primary/quotas/schedule-input';
import { printJob, registerPrintSecondary } from '../../utils/print-jobs';
import { WebClient, errorText, type WebAnswer } from '../../utils/web-client';

const ADMIN_PASSWORD = 'admin-password-for-tests';

/** The refused form's message on an account page (`#account-error`), unescaped. */
function formError(res: WebAnswer): string {
  return errorText({ ...res, text: res.text.replace('id="account-error"', 'id="error-message"') });
}

/** The text of the cells of a table's body rows, one array per row, tags and spaces squeezed. */
function tableRows(html: string, tableId: string): string[][] {
  const table = new RegExp(`<table id="${tableId}">([\\s\\S]*?)</table>`).exec(html)?.[1] ?? '';
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(table)?.[1] ?? '';
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) =>
    [...(row[1] ?? '').matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((cell) =>
      (cell[1] ?? '')
        .replace(/<[^>]*>/g, '')
        .replace(/&amp;/g, '&')
        .replace(/\s+/g, ' ')
        .trim(),
    ),
  );
}

/** The names of the accounts on a user's /accounts page, with the active one marked by a star. */
function userAccounts(html: string): string[] {
  return [...html.matchAll(/<section class="tile account( active)?" id="account-\d+">\s*<h2 translate="no">([^<]*)<\/h2>/g)].map(
    (m) => `${m[2] ?? ''}${m[1] ? ' *' : ''}`,
  );
}

describeOnEachDatabase('shared-account pages over HTTP', (t) => {
  let primary: RunningPrimary;
  let base: string;
  const shared = sharedPrimary(t);

  beforeEach(async () => {
    ({ primary, base } = shared);
    await primary.services.users.createUser({ username: 'ann', password: 'ann-password-1', initialCredit: 250 });
  });

  const admin = (): Promise<WebClient> => new WebClient(base).signedIn('admin', ADMIN_PASSWORD);
  const ann = (): Promise<WebClient> => new WebClient(base).signedIn('ann', 'ann-password-1');
  const accountId = async (name: string): Promise<number> => (await primary.services.accounts.get(name)).id;
  const create = async (a: WebClient, fields: Record<string, string>): Promise<WebAnswer> => {
    await a.get('/admin/accounts');
    return a.post('/admin/accounts', { multiplier: '1', creditLimit: '0.00', ...fields });
  };
  const counts = async (): Promise<number[]> =>
    Promise.all(['accounts', 'ledger', 'audit_log'].map(async (table) => Number(((await t.db.knex(table).count({ n: '*' }).first()) as { n: number }).n)));

  it('creates an account from the form and lists it with its balance, limit, state and access', async () => {
    const a = await admin();
    const res = await create(a, {
      name: 'Science',
      code: 'sci',
      pin: '0042',
      restricted: 'on',
      creditLimit: '20.00',
      multiplier: '1.5',
      expires: '2099-06-30',
      notes: 'labs',
    });
    assert.equal(res.status, 303);
    const id = await accountId('Science');
    assert.equal(res.location, `/admin/accounts/${id}`);
    const stored = await primary.services.accounts.get('Science');
    assert.deepEqual(
      [stored.code, stored.pin, stored.restricted, stored.creditLimit, stored.multiplierBp, stored.expiresAt, stored.notes],
      ['SCI', '0042', true, 2000, 15000, Date.UTC(2099, 6, 1), 'labs'],
    );
    assert.equal((await a.post(`/admin/accounts/${id}/grant`, { kind: 'user', who: 'ann' })).status, 303);
    await primary.services.groups.create({ name: 'staff' }, 'admin');
    assert.equal((await a.post(`/admin/accounts/${id}/grant`, { kind: 'group', who: 'staff' })).status, 303);
    assert.equal((await create(a, { name: 'Art' })).status, 303);
    assert.equal((await a.post(`/admin/accounts/${await accountId('Art')}/grant`, { kind: 'everyone' })).status, 303);

    assert.deepEqual(tableRows((await a.get('/admin/accounts')).text, 'shared-accounts'), [
      ['Art', '', '$0.00', 'No', 'Enabled', 'Everyone'],
      ['Science', 'SCI', '$0.00', 'restricted, down to -$20.00', 'Enabled', '1 user(s), 1 group(s): ann, staff'],
    ]);
    assert.deepEqual(
      tableRows((await a.get('/admin/accounts?q=sci')).text, 'shared-accounts').map((r) => r[0]),
      ['Science'],
    );
    const audit = (await t.db.knex('audit_log').where({ target_type: 'account' }).orderBy('id').select('actor', 'action', 'target_id')) as Record<
      string,
      unknown
    >[];
    assert.deepEqual(
      audit.map((r) => [r.actor, r.action, r.target_id]),
      [
        ['admin', 'account.create', 'Science'],
        ['admin', 'account.grant', 'Science'],
        ['admin', 'account.grant', 'Science'],
        ['admin', 'account.create', 'Art'],
        ['admin', 'account.grant', 'Art'],
      ],
    );
  });

  it('adjusts and sets the balance: one ledger row and one audit row each, once per form', async () => {
    const a = await admin();
    await create(a, { name: 'Science' });
    const id = await accountId('Science');
    const page = await a.get(`/admin/accounts/${id}`);
    const key = /name="formKey" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
    assert.equal((await a.post(`/admin/accounts/${id}/adjust`, { amount: '12.34', comment: 'budget', formKey: key })).status, 303);
    assert.equal((await a.post(`/admin/accounts/${id}/adjust`, { amount: '12.34', comment: 'budget', formKey: key })).status, 303, 'the same form again');
    assert.equal((await a.post(`/admin/accounts/${id}/set-balance`, { balance: '5.00', comment: 'reset', formKey: key })).status, 303);

    const rows = (await t.db
      .knex('ledger')
      .where({ account_id: id })
      .orderBy('id')
      .select('type', 'amount', 'balance_after', 'actor', 'comment', 'idempotency_key')) as Record<string, unknown>[];
    assert.deepEqual(
      rows.map((r) => [r.type, Number(r.amount), Number(r.balance_after), r.actor, r.comment, r.idempotency_key]),
      [
        ['adjustment', 1234, 1234, 'admin', 'budget', `web:adjust:${key}`],
        ['adjustment', -734, 500, 'admin', 'reset', `web:set:${key}`],
      ],
    );
    const audit = (await t.db
      .knex('audit_log')
      .whereIn('action', ['balance.adjust', 'balance.set'])
      .orderBy('id')
      .select('actor', 'action', 'target_type', 'target_id')) as Record<string, unknown>[];
    assert.deepEqual(
      audit.map((r) => [r.actor, r.action, r.target_type, r.target_id]),
      [
        ['admin', 'balance.adjust', 'account', 'Science'],
        ['admin', 'balance.set', 'account', 'Science'],
      ],
    );
    const shown = await a.get(`/admin/accounts/${id}`);
    assert.match(shown.text, /id="balance">\$5\.00</);
    assert.deepEqual(
      tableRows(shown.text, 'transactions').map((r) => r.slice(1)),
      [
        ['Adjustment', '-$7.34', '$5.00', 'admin', 'reset'],
        ['Adjustment', '$12.34', '$12.34', 'admin', 'budget'],
      ],
    );
  });

  it("shows access given and taken away on the user's accounts page, and the active account change writes its audit row", async () => {
    const a = await admin();
    await create(a, { name: 'Science' });
    await create(a, { name: 'Art' });
    const science = await accountId('Science');
    const u = await ann();
    assert.deepEqual(userAccounts((await u.get('/accounts')).text), ['ann *']);

    await a.post(`/admin/accounts/${science}/grant`, { kind: 'user', who: 'ann' });
    await a.post(`/admin/accounts/${await accountId('Art')}/grant`, { kind: 'everyone' });
    // Without a choice, the first usable shared account by name is active (docs/accounts.md).
    assert.deepEqual(userAccounts((await u.get('/accounts')).text), ['ann', 'Art *', 'Science']);

    const chosen = await u.post('/accounts/active', { account: 'Science' });
    assert.deepEqual([chosen.status, chosen.location], [303, '/accounts?changed=1']);
    const after = await u.get('/accounts?changed=1');
    assert.deepEqual(userAccounts(after.text), ['ann', 'Art', 'Science *']);
    assert.match(after.text, /id="active-changed">Your active account has been changed\.</);
    const audit = (await t.db.knex('audit_log').where({ action: 'account.active' }).select('actor', 'target_type', 'target_id', 'details')) as Record<
      string,
      unknown
    >[];
    assert.deepEqual(
      audit.map((r) => [r.actor, r.target_type, r.target_id, JSON.parse(String(r.details))]),
      [['ann', 'user', 'ann', { account: 'Science', accountId: science }]],
    );

    await a.post(`/admin/accounts/${science}/revoke`, { kind: 'user', who: 'ann' });
    assert.deepEqual(userAccounts((await u.get('/accounts')).text), ['ann', 'Art *'], 'the default rule again once Science is out of reach');
    const refused = await u.post('/accounts/active', { account: 'Science' });
    assert.equal(refused.status, 400);
    assert.equal(errorText(refused), 'That did not work: check the account.');
  });

  it("lists the user's own jobs under the account each was charged to", async () => {
    await registerPrintSecondary(primary);
    const a = await admin();
    await create(a, { name: 'Science', code: 'SCI' });
    const science = await accountId('Science');
    await a.post(`/admin/accounts/${science}/grant`, { kind: 'user', who: 'ann' });
    await printJob(primary, { accountCode: 'SCI', documentName: 'lab.pdf', pages: 2 });
    const u = await ann();
    assert.equal((await u.post('/accounts/active', { account: 'personal' })).status, 303);
    await printJob(primary, { documentName: 'essay.pdf', pages: 2 });
    const html = (await u.get('/accounts')).text;
    const section = (id: number): string => new RegExp(`id="account-${id}">([\\s\\S]*?)</section>`).exec(html)?.[1] ?? '';
    const personal = (await primary.services.users.personalAccount((await primary.services.users.getByUsername('ann')).id)).id;
    const docs = (id: number): string[] => [...section(id).matchAll(/<td class="doc">([^<]*)</g)].map((m) => m[1] ?? '');
    assert.deepEqual([docs(science), docs(personal)], [['lab.pdf'], ['essay.pdf']]);
    assert.match(section(science), /class="balance">-\$0\.20</);
    assert.match(section(personal), /class="balance">\$2\.30</);
  });

  it("shows an allocation account: the user's allocation left, per period, limit and own jobs; the admin page its schedule and each user's balance", async () => {
    await registerPrintSecondary(primary);
    await primary.services.users.createUser({ username: 'bob', password: 'bob-password-1', initialCredit: 0 });
    const a = await admin();
    const created = await create(a, {
      name: 'Lab',
      code: 'lab',
      model: 'allocation',
      allocation: '1.00',
      period: 'monthly',
      day: '',
      at: '06:30',
      limit: 'soft',
    });
    assert.equal(created.status, 303);
    const lab = await accountId('Lab');
    assert.equal(created.location, `/admin/accounts/${lab}`);
    const stored = await primary.services.allocations.get('Lab');
    assert.deepEqual(
      [stored.code, stored.limit, stored.schedule.amount, stored.schedule.period, stored.schedule.dayOfMonth, stored.schedule.atTime, stored.schedule.mode],
      ['LAB', 'soft', 100, 'monthly', 1, '06:30', 'reset'],
    );
    await a.post(`/admin/accounts/${lab}/grant`, { kind: 'user', who: 'bob' });
    await primary.services.quotas.runNow(stored.schedule.name);
    // ann is given access after the period's run: she has no balance of her own on Lab yet.
    await a.post(`/admin/accounts/${lab}/grant`, { kind: 'user', who: 'ann' });

    const u = await ann();
    const labSection = async (): Promise<string> => new RegExp(`id="account-${lab}">([\\s\\S]*?)</section>`).exec((await u.get('/accounts')).text)?.[1] ?? '';
    const figures = (html: string): string[] =>
      [/class="allocation-left">([^<]*)</, /class="allocation-per-period">([^<]*)</, /class="allocation-limit">([^<]*)</].map((re) => re.exec(html)?.[1] ?? '');
    const limitWords = 'Soft limit: you may go past it, you will be warned.';
    let html = await labSection();
    assert.deepEqual(figures(html), ['$1.00', '$1.00', limitWords], "before her first job: what it would be given, this period's allocation");
    assert.doesNotMatch(html, /class="balance"/);
    assert.match(html, /You have not printed on this account yet\./);

    await printJob(primary, { accountCode: 'LAB', documentName: 'lab.pdf', pages: 3 });
    await printJob(primary, { accountCode: 'LAB', documentName: 'thesis.pdf', pages: 8 });
    html = await labSection();
    assert.deepEqual(figures(html), ['-$0.10', '$1.00', limitWords], '$1.00 less $0.30 and $0.80: past it, as a soft limit allows');
    assert.deepEqual(
      [...html.matchAll(/<td class="doc">([^<]*)</g)].map((m) => m[1]),
      ['thesis.pdf', 'lab.pdf'],
    );

    assert.equal((await u.post('/accounts/active', { account: 'Lab' })).status, 303);
    assert.deepEqual(userAccounts((await u.get('/accounts')).text), ['ann', 'Lab *']);

    const page = (await a.get(`/admin/accounts/${lab}`)).text;
    const text = (id: string): string => new RegExp(`id="${id}">([^<]*)<`).exec(page)?.[1] ?? '';
    const zone = primary.services.quotas.timezone;
    const next = primary.services.quotas.nextRuns(stored.schedule, 1)[0] ?? 0;
    assert.deepEqual(
      [text('allocation-per-period'), text('allocation-when'), text('allocation-next'), text('allocation-limit')],
      ['$1.00', 'On day 1 of every month at 06:30', `Next run: ${localTime(next, zone)} ${zone}`, limitWords],
    );
    assert.deepEqual(tableRows(page, 'allocation-users'), [
      ['ann', '-$0.10', '$0.00', '$0.10'],
      ['bob', '$1.00', '$0.00', '$0.00'],
    ]);
    // The account's own row holds nothing: no balance line or forms on the page, and a posted change is refused.
    assert.doesNotMatch(page, /id="balance"|id="adjust"|id="set-balance"/);
    const refused = await a.post(`/admin/accounts/${lab}/adjust`, { amount: '5.00', comment: '', formKey: 'lab-adjust-form-0001' });
    assert.equal(refused.status, 400);
    assert.equal(formError(refused), 'That did not work: check the account.');
    assert.equal(
      await t.db
        .knex('ledger')
        .where({ type: 'adjustment' })
        .count({ n: '*' })
        .first()
        .then((r) => Number((r as { n: number }).n)),
      0,
    );
  });

  it('refuses an allocation account with a bad allocation or period, and writes nothing', async () => {
    const a = await admin();
    const before = await counts();
    const tooPrecise = await create(a, { name: 'Lab', model: 'allocation', allocation: '1.005', period: 'monthly', limit: 'hard' });
    assert.equal(tooPrecise.status, 400);
    assert.match(tooPrecise.text, /name="allocation"[^>]*value="1\.005"/);
    assert.equal((await create(a, { name: 'Lab', model: 'allocation', allocation: '1.00', period: 'yearly', limit: 'hard' })).status, 400);
    assert.equal((await create(a, { name: 'Lab', model: 'allocation', allocation: '1.00', period: 'monthly', limit: 'strict' })).status, 400);
    assert.deepEqual(await counts(), before);
  });

  it('changes the settings: PIN set and cleared, disabled, multiplier and dates; archives the account', async () => {
    const a = await admin();
    await create(a, { name: 'Science', code: 'SCI' });
    const id = await accountId('Science');
    const form = { code: 'SCI', multiplier: '1', creditLimit: '0.00', notes: '', starts: '', expires: '', enabled: 'on' };
    assert.equal(
      (await a.post(`/admin/accounts/${id}/settings`, { ...form, pin: '0007', multiplier: '2.25', starts: '2026-01-01', expires: '2099-12-31' })).status,
      303,
    );
    let s = await primary.services.accounts.get('Science');
    assert.deepEqual([s.pin, s.multiplierBp, s.startsAt, s.expiresAt, s.enabled], ['0007', 22500, Date.UTC(2026, 0, 1), Date.UTC(2100, 0, 1), true]);
    const { enabled: _, ...disabled } = form;
    assert.equal((await a.post(`/admin/accounts/${id}/settings`, { ...disabled, clearPin: 'on' })).status, 303);
    s = await primary.services.accounts.get('Science');
    assert.deepEqual([s.pin, s.multiplierBp, s.startsAt, s.expiresAt, s.enabled], [null, 10000, null, null, false]);
    const updates = (await t.db.knex('audit_log').where({ action: 'account.update' }).orderBy('id').pluck('details')) as string[];
    assert.deepEqual(
      updates.map((d) => JSON.parse(d)),
      [
        { pin: 'set', multiplierBp: 22500, startsAt: Date.UTC(2026, 0, 1), expiresAt: Date.UTC(2100, 0, 1) },
        { pin: 'removed', multiplierBp: 10000, startsAt: null, expiresAt: null, enabled: false },
      ],
    );

    assert.equal((await a.post(`/admin/accounts/${id}/archive`, {})).status, 303);
    assert.match((await a.get(`/admin/accounts/${id}`)).text, /id="state">Archived</);
    assert.deepEqual(tableRows((await a.get('/admin/accounts')).text, 'shared-accounts'), [['Nothing yet.']]);
    assert.deepEqual(
      tableRows((await a.get('/admin/accounts?archived=1')).text, 'shared-accounts').map((r) => r[4]),
      ['Archived'],
    );
  });

  it("refuses bad input with the field's message and writes nothing", async () => {
    const a = await admin();
    await create(a, { name: 'Science', code: 'SCI' });
    const id = await accountId('Science');
    const before = await counts();
    const refused = async (res: Promise<WebAnswer>, message: string, what: string): Promise<void> => {
      const answer = await res;
      assert.equal(answer.status, 400, what);
      assert.equal(formError(answer), message, what);
    };
    await refused(
      create(a, { name: 'Other', code: 'sci' }),
      'That did not work: another account already has that code (codes are compared without case).',
      'code',
    );
    await refused(create(a, { name: 'SCIENCE' }), 'That did not work: another account already has that name (names are compared without case).', 'name');
    await refused(create(a, { name: 'Other', pin: '12a4' }), 'That did not work: check the PIN (1 to 16 digits).', 'PIN');
    await refused(create(a, { name: 'x'.repeat(300) }), 'That did not work: check the name.', 'long name');
    await refused(create(a, { name: 'Other', multiplier: '1.23456' }), 'That did not work: check the cost multiplier (such as 1 or 1.25).', 'multiplier');
    await refused(create(a, { name: 'Other', expires: '2001-01-01' }), 'That did not work: check the last day (after the first, not in the past).', 'expiry');
    const key = 'a-form-key-of-the-test-0001';
    await refused(a.post(`/admin/accounts/${id}/adjust`, { amount: '1.234', comment: '', formKey: key }), 'That did not work: check the amount.', 'amount');
    await refused(
      a.post(`/admin/accounts/${id}/set-balance`, { balance: '0.001', comment: '', formKey: key }),
      'That did not work: check the new balance.',
      'balance',
    );
    await refused(
      a.post(`/admin/accounts/${id}/settings`, { code: 'SCI', pin: 'abcd', multiplier: '1', creditLimit: '0.00', enabled: 'on' }),
      'That did not work: check the PIN (1 to 16 digits).',
      'PIN on edit',
    );
    const typed = await create(a, { name: 'Other', code: 'sci', notes: 'kept' });
    assert.match(typed.text, /name="name" required maxlength="255" value="Other"/, 'a refused form is shown as typed');
    assert.match(typed.text, /<textarea name="notes" maxlength="2000">kept<\/textarea>/);

    const forged = await a.request('POST', `/admin/accounts/${id}/adjust`, { body: new URLSearchParams({ amount: '5.00', formKey: key }) });
    assert.equal(forged.status, 403);
    assert.equal((await a.post(`/admin/accounts/${id}/settings`, { code: 'SCI', restricted: 'yes' })).status, 400, 'a checkbox sends only its value');
    assert.deepEqual(await counts(), before);
    assert.equal((await primary.services.accounts.get('Science')).balance, 0);
  });

  it('renames and moves an account with the rename form: sub-accounts follow, the page keeps its address, one audit row; a taken name or missing parent is refused', async () => {
    const a = await admin();
    for (const name of ['Science', 'Physics', 'Physics\\Lab']) await create(a, { name });
    const id = await accountId('Physics');
    const before = await counts();
    const moved = await a.post(`/admin/accounts/${id}/rename`, { name: 'Science \\ Physics' });
    assert.deepEqual([moved.status, moved.location], [303, `/admin/accounts/${id}?saved=1`]);
    assert.deepEqual(
      (await primary.services.accounts.list()).map((x) => x.name),
      ['Science', 'Science\\Physics', 'Science\\Physics\\Lab'],
    );
    assert.match(
      (await a.get(`/admin/accounts/${id}`)).text,
      /<h1 translate="no">Science\\Physics<\/h1>[^]*name="name" maxlength="1000" required value="Science\\Physics"/,
    );
    const after = await counts();
    assert.deepEqual(after, [before[0], before[1], (before[2] ?? 0) + 1], 'no account or ledger row, one audit row');
    const refused = async (name: string, message: string): Promise<void> => {
      const answer = await a.post(`/admin/accounts/${id}/rename`, { name });
      assert.equal(answer.status, 400, name);
      assert.equal(formError(answer), message, name);
    };
    await refused('SCIENCE', 'That did not work: another account already has that name (names are compared without case).');
    await refused('Art\\Physics', 'That did not work: the new parent account does not exist.');
    await refused('Science\\Physics\\Lab\\X', 'That did not work: check the name.');
    await refused('Science\\\\Physics', 'That did not work: check the name.');
    assert.deepEqual(await counts(), after);
  });

  it("changes an allocation account's allocation, period and limit with its form; the period already paid is not paid again", async () => {
    const a = await admin();
    const created = await primary.services.allocations.create(
      { name: 'Lab', limit: 'hard', schedule: { period: 'monthly', weekday: null, dayOfMonth: 1, atTime: '00:00', cron: null, amount: 100 } },
      'cli:admin',
    );
    await primary.services.accounts.grant('Lab', { user: 'ann' }, 'cli:admin');
    const paid = await primary.services.quotas.runNow(created.schedule.name);
    assert.deepEqual([paid.users, paid.total], [1, 100], 'ann');
    let page = (await a.get(`/admin/accounts/${created.id}`)).text;
    const edit = /<form method="post" action="[^"]*\/allocation" id="allocation-edit">([\s\S]*?)<\/form>/.exec(page)?.[1] ?? '';
    assert.match(edit, /name="allocation"[^>]*value="1\.00"/);
    assert.match(edit, /<option value="monthly" selected>/);
    assert.match(edit, /<option value="hard">/);
    const answer = await a.post(`/admin/accounts/${created.id}/allocation`, {
      allocation: '2.50',
      period: 'weekly',
      weekday: '3',
      day: '',
      at: '06:00',
      limit: 'soft',
    });
    assert.deepEqual([answer.status, answer.location], [303, `/admin/accounts/${created.id}?saved=1`]);
    const stored = await primary.services.allocations.get('Lab');
    assert.deepEqual(
      [stored.limit, stored.schedule.amount, stored.schedule.period, stored.schedule.weekday, stored.schedule.dayOfMonth, stored.schedule.atTime],
      ['soft', 250, 'weekly', 3, null, '06:00'],
    );
    page = (await a.get(`/admin/accounts/${created.id}`)).text;
    const text = (id: string): string => new RegExp(`id="${id}">([^<]*)<`).exec(page)?.[1] ?? '';
    assert.deepEqual(
      [text('allocation-per-period'), text('allocation-when'), text('allocation-limit')],
      ['$2.50', 'Every Wednesday at 06:00', 'Soft limit: you may go past it, you will be warned.'],
    );
    assert.deepEqual(tableRows(page, 'allocation-users'), [['ann', '$1.00', '$0.00', '$0.00']], 'the paid period is not paid again');
    const audit = (await t.db.knex('audit_log').where({ action: 'account.allocation' }).orderBy('id').select('actor', 'details')) as {
      actor: string;
      details: string;
    }[];
    assert.deepEqual(
      audit.slice(1).map((r) => [r.actor, JSON.parse(r.details)]),
      [['admin', { limit: 'soft', allocation: 250, period: 'weekly', weekday: 3, dayOfMonth: null, atTime: '06:00', cron: null }]],
    );
    const bad = await a.post(`/admin/accounts/${created.id}/allocation`, { allocation: '1.005', period: 'weekly', weekday: '3', at: '06:00', limit: 'soft' });
    assert.equal(bad.status, 400);
    assert.equal(formError(bad), 'That did not work: check the allocation (such as 50.00).');
  });

  it('lists the quota schedules paying an account on the groups page, each under the account it pays, as quotient quotas list does', async () => {
    const a = await admin();
    assert.match(
      (await a.get('/admin/groups')).text,
      /<section class="card" id="quotas-accounts"><h2>Quota schedules for accounts<\/h2>\s*<p>No quota schedules\.<\/p><\/section>/,
    );
    await primary.services.accounts.create({ name: 'Physics' }, 'cli:admin');
    await primary.services.quotas.create({
      name: 'physics-budget',
      account: 'Physics',
      period: 'monthly',
      weekday: null,
      dayOfMonth: 1,
      atTime: '00:00',
      cron: null,
      mode: 'add',
      amount: 5000,
    });
    const lab = await primary.services.allocations.create(
      { name: 'Lab', limit: 'hard', schedule: { period: 'monthly', weekday: null, dayOfMonth: 1, atTime: '00:00', cron: null, amount: 100 } },
      'cli:admin',
    );
    const section = /<section class="card" id="quotas-accounts">([\s\S]*?)<\/section>/.exec((await a.get('/admin/groups')).text)?.[1] ?? '';
    const listed = [...section.matchAll(/<h3>([^<]*)<\/h3>[\s\S]*?<strong>([^<]*)<\/strong>[\s\S]*?<span class="what">([^<]*)<\/span>/g)].map((m) => [
      m[1],
      m[2],
      m[3],
    ]);
    assert.deepEqual(listed, [
      ['Each user of account Lab', lab.schedule.name, 'sets the balance to $1.00'],
      ['Account Physics', 'physics-budget', 'adds $50.00'],
    ]);
    const everyone = /<section class="card" id="quotas-everyone">([\s\S]*?)<\/section>/.exec((await a.get('/admin/groups')).text)?.[1] ?? '';
    assert.doesNotMatch(everyone, /physics-budget|allocation:/, 'not among the schedules for all users');
  });

  it('answers 403 to users who are not administrators, and 404 for a personal account', async () => {
    const u = await ann();
    assert.equal((await u.get('/admin/accounts')).status, 403);
    const personal = (await primary.services.users.personalAccount((await primary.services.users.getByUsername('ann')).id)).id;
    assert.equal((await (await admin()).get(`/admin/accounts/${personal}`)).status, 404);
  });
});
