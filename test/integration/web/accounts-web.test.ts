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

  it('answers 403 to users who are not administrators, and 404 for a personal account', async () => {
    const u = await ann();
    assert.equal((await u.get('/admin/accounts')).status, 403);
    const personal = (await primary.services.users.personalAccount((await primary.services.users.getByUsername('ann')).id)).id;
    assert.equal((await (await admin()).get(`/admin/accounts/${personal}`)).status, 404);
  });
});
