/**
 * What the web tools answer to requests the HTTP layer refuses or treats specially, on a real
 * started primary (one per dialect, shared by the tests; each test starts from empty tables):
 * unreadable paths and bodies (400), oversized forms (413), HEAD answered as GET. Each is a class
 * of input, so each is sent to every kind of route: signed out, signed in, admin, sign-in form.
 */
import assert from 'node:assert/strict';
import type { RunningPrimary } from '../../../primary/boot';
import { describeOnEachDatabase } from '../../utils/databases';
import { sharedPrimary } from '../../utils/primary';
import { WebClient, errorText, recordingLogger, type WebAnswer } from '../../utils/web-client';

const ADMIN_PASSWORD = 'admin-password-for-tests';
const BAD_REQUEST = 'That request could not be read: the address or the form is damaged. Check the link, or reload the page and try again.';
const TOO_LARGE = 'That form is too large to send. Send less at a time, or reload the page and try again.';

describeOnEachDatabase('web tools over HTTP', (t) => {
  let primary: RunningPrimary;
  let base: string;
  const log = recordingLogger();
  let annId: number;

  const shared = sharedPrimary(t, {}, { logger: log.logger });

  beforeEach(async () => {
    ({ primary, base } = shared);
    annId = (await primary.services.users.createUser({ username: 'ann', password: 'ann-password-1', restricted: true, initialCredit: 1000 })).id;
    log.entries.length = 0;
  });

  const client = (): WebClient => new WebClient(base);
  const admin = (): Promise<WebClient> => client().signedIn('admin', ADMIN_PASSWORD);
  const ann = (): Promise<WebClient> => client().signedIn('ann', 'ann-password-1');

  /** Log entries at error level or above (pino: 50), and the client errors (warn, 40) by path. */
  const serverErrors = (): unknown[] => log.entries.filter((e) => Number(e.level) >= 50);
  const clientErrors = (): string[] =>
    log.entries.filter((e) => Number(e.level) === 40 && /client error$/.test(String(e.msg))).map((e) => `${String(e.status)} ${String(e.path)}`);

  const assertPage = (res: WebAnswer, status: number, message: string, what: string): void => {
    assert.equal(res.status, status, what);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/, what);
    assert.equal(errorText(res), message, what);
  };

  describe('a path with malformed percent-encoding, an unknown charset or content encoding', () => {
    it('answers 400 with a readable page on every route with a path parameter, logged as a client error', async () => {
      const a = await admin();
      const gets = [
        '/admin/users/%E0%A4%A',
        '/admin/printers/%E0%A4%A/filters',
        '/admin/rate-cards/%E0%A4%A',
        '/admin/quotas/%E0%A4%A/runs/1',
        '/admin/quotas/x/runs/%E0%A4%A',
      ];
      for (const path of gets) assertPage(await a.get(path), 400, BAD_REQUEST, path);
      const posts = [
        '/admin/users/%E0%A4%A/adjust',
        '/admin/users/%E0%A4%A/account',
        '/admin/printers/%E0%A4%A/enabled',
        '/admin/printers/%E0%A4%A/charging',
        '/admin/printers/%E0%A4%A/filters',
        '/admin/rate-cards/%E0%A4%A',
        '/admin/refunds/%E0%A4%A/approve',
        '/admin/quotas/%E0%A4%A/enabled',
        '/admin/quotas/%E0%A4%A/remove',
        '/admin/quotas/%E0%A4%A/run',
      ];
      for (const path of posts) assertPage(await a.post(path, { amount: '1', formKey: 'aaaaaaaaaaaaaaaaaaaa' }), 400, BAD_REQUEST, `POST ${path}`);
      assert.deepEqual(serverErrors(), []);
      assert.deepEqual(
        clientErrors(),
        [...gets, ...posts].map((p) => `400 ${p}`),
      );
      assert.equal((await primary.services.users.personalAccount(annId)).balance, 1000);
    });

    it('answers 400 to a form in a charset or content encoding the primary cannot read, signed in or not', async () => {
      const charset = { 'content-type': 'application/x-www-form-urlencoded; charset=x-unknown' };
      const encoding = { 'content-encoding': 'x-unknown' };
      const signedOut = client();
      await signedOut.get('/signin');
      assertPage(await signedOut.post('/signin', { username: 'admin', password: ADMIN_PASSWORD }, charset), 400, BAD_REQUEST, 'sign-in, charset');
      assertPage(await signedOut.post('/signin', { username: 'admin', password: ADMIN_PASSWORD }, encoding), 400, BAD_REQUEST, 'sign-in, encoding');
      const a = await admin();
      assertPage(await a.post('/admin/settings', { 'currency.symbol': '€' }, charset), 400, BAD_REQUEST, 'settings, charset');
      assertPage(
        await a.post(`/admin/users/${annId}/adjust`, { amount: '5', formKey: 'aaaaaaaaaaaaaaaaaaaa' }, encoding),
        400,
        BAD_REQUEST,
        'adjust, encoding',
      );
      const u = await ann();
      assertPage(await u.post('/jobs/refund', { jobId: '1' }, charset), 400, BAD_REQUEST, 'refund, charset');
      assert.deepEqual(serverErrors(), []);
      assert.equal(clientErrors().length, 5);
      assert.equal(await t.db.knex('settings').where({ key: 'currency.symbol' }).first(), undefined);
      assert.equal((await primary.services.users.personalAccount(annId)).balance, 1000);
    });

    it('still reads a malformed query string as text rather than refusing the page', async () => {
      const a = await admin();
      const res = await a.get('/admin/users?q=%E0%A4%A');
      assert.equal(res.status, 200);
      assert.deepEqual(serverErrors(), []);
    });
  });

  describe('a form over the body limits (64 kB, 2,000 fields)', () => {
    const big = { filler: 'x'.repeat(200_000) };
    const many: [string, string][] = Array.from({ length: 2100 }, (_, i) => [`f${i}`, '1']);

    it('answers 413 with a readable page, signed in or not, before the CSRF check, logged as a client error', async () => {
      const signedOut = client();
      await signedOut.get('/signin');
      assertPage(await signedOut.post('/signin', { username: 'admin', password: ADMIN_PASSWORD, ...big }), 413, TOO_LARGE, 'sign-in, 200 kB');
      assertPage(await signedOut.post('/signin', [['username', 'admin'], ['password', ADMIN_PASSWORD], ...many]), 413, TOO_LARGE, 'sign-in, 2,100 fields');
      // Without a CSRF token at all: still 413, not 403.
      assertPage(await signedOut.post('/admin/settings', { _csrf: '', ...big }), 413, TOO_LARGE, 'settings signed out, no token');
      const a = await admin();
      assertPage(await a.post('/admin/settings', { 'currency.symbol': '€', ...big }), 413, TOO_LARGE, 'settings, 200 kB');
      assertPage(
        await a.post(`/admin/users/${annId}/adjust`, [['amount', '5'], ['formKey', 'aaaaaaaaaaaaaaaaaaaa'], ...many]),
        413,
        TOO_LARGE,
        'adjust, 2,100 fields',
      );
      assertPage(await a.post('/admin/rate-cards', { name: 'Huge', ...big }), 413, TOO_LARGE, 'rate card, 200 kB');
      const u = await ann();
      assertPage(await u.post('/transfers', { to: 'admin', amount: '1', ...big }), 413, TOO_LARGE, 'transfer, 200 kB');
      assertPage(await u.post('/signout', Object.fromEntries(many)), 413, TOO_LARGE, 'sign-out, 2,100 fields');
      assert.deepEqual(serverErrors(), []);
      assert.deepEqual(
        clientErrors(),
        ['/signin', '/signin', '/admin/settings', '/admin/settings', `/admin/users/${annId}/adjust`, '/admin/rate-cards', '/transfers', '/signout'].map(
          (p) => `413 ${p}`,
        ),
      );
      // The signed-in page says who is signed in; nothing was changed or logged with the body.
      assert.equal(await t.db.knex('settings').where({ key: 'currency.symbol' }).first(), undefined);
      assert.equal((await primary.services.users.personalAccount(annId)).balance, 1000);
      assert.ok(!JSON.stringify(log.entries).includes('xxxxxxxxxx'));
      assert.ok(!JSON.stringify(log.entries).includes(ADMIN_PASSWORD));
    });

    it('accepts a form just under the limits', async () => {
      const a = await admin();
      const res = await a.post(`/admin/users/${annId}/adjust`, [
        ['amount', '5'],
        ['comment', 'x'.repeat(900)],
        ['formKey', 'aaaaaaaaaaaaaaaaaaaa'],
        ...many.slice(0, 1990),
      ]);
      assert.equal(res.status, 303);
      assert.equal((await primary.services.users.personalAccount(annId)).balance, 1500);
    });
  });

  describe('the settings form', () => {
    /** The whole form as the page sends it (a ticked checkbox sends "true", an unticked one nothing), with changes. */
    const settingsForm = async (changes: Record<string, string | undefined>): Promise<[string, string][]> => {
      const fields: [string, string][] = [];
      for (const [key, value] of Object.entries(await primary.services.settings.all())) {
        if (typeof value === 'boolean') {
          if (value) fields.push([key, 'true']);
        } else fields.push([key, String(value)]);
      }
      const kept = fields.filter(([k]) => !(k in changes));
      return [...kept, ...Object.entries(changes).filter((e): e is [string, string] => e[1] !== undefined)];
    };
    const stored = async (): Promise<string[]> =>
      ((await t.db.knex('settings').orderBy('key').select('key', 'value')) as { key: string; value: string }[]).map((r) => `${r.key}=${r.value}`);
    const audited = async (): Promise<number> => Number((await t.db.knex('audit_log').where({ action: 'settings.set' }).count({ n: '*' }).first())?.n);
    const inputValue = (page: { text: string }, name: string): string | undefined =>
      new RegExp(`<input name="${name.replace(/\./g, '\\.')}" value="([^"]*)"`).exec(page.text)?.[1];
    const settingsError = (page: { text: string }): string => /id="settings-error">([^<]*)</.exec(page.text)?.[1]?.trim() ?? '';

    it('saves nothing of a form it refuses, and shows it again as typed naming the field', async () => {
      const a = await admin();
      // The example: two fields, one invalid.
      let res = await a.post('/admin/settings', { 'currency.symbol': '€', 'transfers.maximum': '-5' });
      assert.equal(res.status, 400);
      assert.equal(settingsError(res), 'That did not work: check transfers.maximum.');
      assert.deepEqual([inputValue(res, 'currency.symbol'), inputValue(res, 'transfers.maximum')], ['€', '-5']);
      // The whole form with one invalid value, and with a group that does not exist.
      res = await a.post('/admin/settings', await settingsForm({ 'currency.symbol': '€', 'transfers.enabled': 'true', 'transfers.maximum': '-5' }));
      assert.equal(res.status, 400);
      assert.equal(settingsError(res), 'That did not work: check transfers.maximum.');
      assert.match(res.text, /<input type="checkbox" name="transfers\.enabled" value="true" checked>/);
      res = await a.post('/admin/settings', await settingsForm({ 'currency.symbol': '€', 'users.onDemandGroups': 'no-such-group' }));
      assert.equal(settingsError(res), 'That did not work: check users.onDemandGroups.');
      res = await a.post('/admin/settings', await settingsForm({ 'currency.symbol': '€', 'currency.decimals': '' }));
      assert.equal(settingsError(res), 'That did not work: check currency.decimals.');
      assert.deepEqual(await stored(), []);
      assert.equal(await audited(), 0);
    });

    it('refuses a checkbox sent with a value that is not its own, a repeated field, a missing field and a field that is no setting', async () => {
      const a = await admin();
      const refusals: [[string, string][], string][] = [
        [await settingsForm({ 'currency.symbol': '€', 'transfers.enabled': 'yes' }), 'transfers.enabled'],
        [await settingsForm({ 'transfers.enabled': 'false' }), 'transfers.enabled'],
        [[...(await settingsForm({ 'transfers.enabled': 'true' })), ['transfers.enabled', 'true']], 'transfers.enabled'],
        [[...(await settingsForm({})), ['currency.symbol', '£']], 'currency.symbol'],
        [await settingsForm({ 'currency.symbol': '€', 'currency.decimals': undefined }), 'currency.decimals'],
        [[...(await settingsForm({ 'currency.symbol': '€' })), ['currency.colour', 'red']], 'currency.colour'],
        [[...(await settingsForm({ 'currency.symbol': '€' })), ['constructor', '1']], 'constructor'],
      ];
      for (const [form, field] of refusals) {
        const res = await a.post('/admin/settings', form);
        assert.equal(res.status, 400, field);
        assert.equal(settingsError(res), `That did not work: check ${field}.`);
      }
      assert.deepEqual(await stored(), []);
      assert.equal(await audited(), 0);
      // Transfers stay off: users see no transfer page.
      assert.equal((await (await ann()).get('/transfers')).status, 404);
    });

    it('saves a valid form as a whole, one audit row per change; an unticked checkbox is off', async () => {
      const a = await admin();
      let res = await a.post('/admin/settings', await settingsForm({ 'currency.symbol': '€', 'transfers.enabled': 'true', 'transfers.maximum': '500' }));
      assert.equal(res.status, 303);
      assert.deepEqual(await stored(), ['currency.symbol="€"', 'transfers.enabled=true', 'transfers.maximum=500']);
      assert.equal(await audited(), 3);
      res = await a.get('/admin/settings');
      assert.match(res.text, /<input type="checkbox" name="transfers\.enabled" value="true" checked>/);
      res = await a.post('/admin/settings', await settingsForm({ 'transfers.enabled': undefined }));
      assert.equal(res.status, 303);
      assert.deepEqual(await stored(), ['currency.symbol="€"', 'transfers.enabled=false', 'transfers.maximum=500']);
      assert.equal(await audited(), 4);
    });
  });

  describe('fields whose values the page fixes (checkboxes, selects, on/off buttons)', () => {
    it('refuses a value the page does not offer on every admin form, and changes nothing', async () => {
      const printer = await primary.services.printers.resolve('print-1', 'library-laser', { description: 'Library laser' });
      await primary.services.groups.create({ name: 'staff', description: 'All staff' });
      await primary.services.quotas.create({ name: 'weekly', allUsers: true, period: 'weekly', weekday: 1, atTime: '06:00', mode: 'add', amount: 500 });
      const card = await primary.services.rateCards.save('Cheap', {
        prices: [
          { paperSize: '*', colour: 'grey', sides: 'simplex', pricePerPage: 5 },
          { paperSize: '*', colour: 'colour', sides: 'simplex', pricePerPage: 25 },
        ],
      });
      const a = await admin();
      const audits = async (): Promise<number> => Number((await t.db.knex('audit_log').count({ n: '*' }).first())?.n);
      const auditsBefore = await audits();
      const key = (c: string): string => c.repeat(20);
      const cases: [string, Record<string, string>, string][] = [
        [`/admin/users/${annId}/account`, { restricted: 'yes', creditLimit: '' }, 'That did not work: check the restriction (a checkbox).'],
        [`/admin/printers/${printer.id}/enabled`, { enabled: 'yes' }, 'That did not work: check whether it is enabled.'],
        [
          '/admin/groups/rules',
          { group: 'staff', initialCredit: '1', initialRestricted: 'maybe', initialCreditLimit: '' },
          'That did not work: check whether new users are restricted.',
        ],
        [
          `/admin/rate-cards/${card.id}`,
          {
            version: '1',
            formKey: key('r'),
            priceRows: '2',
            perJobFee: '0',
            duplexDiscount: '0',
            'p0.size': '*',
            'p0.colour': 'grey',
            'p0.sides': 'simplex',
            'p0.price': '0.05',
            'p0.remove': 'yes',
            'p1.size': '*',
            'p1.colour': 'colour',
            'p1.sides': 'simplex',
            'p1.price': '0.25',
          },
          'That did not work: check p0.remove.',
        ],
      ];
      for (const [path, form, message] of cases) assertPage(await a.post(path, form), 400, message, path);
      // The quota forms answer with their own page.
      for (const [path, form] of [
        ['/admin/quotas', { name: 'daily', for: '*', period: 'daily', at: '06:00', amount: '1.00', mode: 'add', disabled: 'yes', formKey: key('q') }],
        ['/admin/quotas/weekly/enabled', { enabled: 'yes', formKey: key('e') }],
      ] as const) {
        const res = await a.post(path, form);
        assert.equal(res.status, 400, path);
        assert.match(res.text, /That did not work: something in the form is not valid\./, path);
      }
      assert.equal((await primary.services.users.personalAccount(annId)).restricted, true);
      assert.equal(Boolean((await t.db.knex('printers').where({ id: printer.id }).first('enabled'))?.enabled), true);
      assert.equal((await primary.services.groups.get('staff')).initialRestricted, null);
      assert.equal((await primary.services.rateCards.get(card.id)).card.prices.length, 2);
      assert.deepEqual(
        (await primary.services.quotas.list()).map((q) => [q.name, q.enabled]),
        [['weekly', true]],
      );
      assert.equal(await audits(), auditsBefore);
    });
  });

  describe('the card redemption form', () => {
    it('answers wrong numbers with 400, then 429 with Retry-After once the user is locked out, even for a good card', async () => {
      const {
        numbers: [good],
      } = await primary.services.cards.generate({ name: 'Spring', value: 500, expiresOn: '2099-06-30', notes: '', actor: 'admin' }, 1);
      const a = await ann();
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await a.post('/cards', { number: `1234-5678-9012-3456-78${i}` })).status);
      assert.deepEqual(statuses, [400, 400, 400, 400, 400]);
      const locked = await a.post('/cards', { number: good ?? '' });
      assert.equal(locked.status, 429);
      assert.equal(locked.headers.get('retry-after'), '900');
      assert.equal((await primary.services.users.personalAccount(annId)).balance, 1000);
    });

    it('disables and enables a batch from its admin page, auditing each change once', async () => {
      await primary.services.cards.generate({ name: 'Autumn', value: 300, expiresOn: '2099-06-30', notes: '', actor: 'admin' }, 1);
      const a = await admin();
      const audits = async (): Promise<string[]> =>
        ((await primary.services.db.knex('audit_log').where({ target_id: 'Autumn' }).orderBy('id').select('action')) as { action: string }[]).map(
          (r) => r.action,
        );
      const page = await a.get('/admin/cards/Autumn');
      assert.match(page.text, /action="\/admin\/cards\/Autumn\/disable"/);
      assert.doesNotMatch(page.text, /\/enable"/);

      const disabled = await a.post('/admin/cards/Autumn/disable', {});
      assert.deepEqual([disabled.status, disabled.location], [303, '/admin/cards/Autumn?disabled=1']);
      const off = await a.get('/admin/cards/Autumn?disabled=1');
      assert.match(off.text, /action="\/admin\/cards\/Autumn\/enable"/);
      assert.match(off.text, /The batch is disabled: its unused cards can no longer be redeemed\./);

      const enabled = await a.post('/admin/cards/Autumn/enable', {});
      assert.deepEqual([enabled.status, enabled.location], [303, '/admin/cards/Autumn?enabled=1']);
      assert.equal((await a.post('/admin/cards/Autumn/enable', {})).status, 303);
      const on = await a.get('/admin/cards/Autumn?enabled=1');
      assert.match(on.text, /The batch is enabled: its unused cards can be redeemed again until it expires\./);
      assert.match(on.text, /action="\/admin\/cards\/Autumn\/disable"/);
      assert.deepEqual(await audits(), ['card_batch.create', 'card_batch.disable', 'card_batch.enable']);
      assert.equal((await primary.services.cards.list()).find((b) => b.name === 'Autumn')?.disabled, false);
    });
  });

  describe('HEAD', () => {
    const PATHS = [
      '/',
      '/signin',
      '/jobs',
      '/transactions',
      '/internet',
      '/rates',
      '/widget',
      '/widget/help',
      '/transfers',
      '/admin',
      '/admin/users',
      `/admin/users/1`,
      '/admin/settings',
      '/admin/groups',
      '/admin/printers',
      '/admin/nothing',
      '/static/quotient.css',
      '/healthz',
      '/api/nothing',
    ];

    /** Status and Location of GET and HEAD for every path, for one client. */
    const both = async (c: WebClient): Promise<{ get: string[]; head: string[] }> => {
      const get: string[] = [];
      const head: string[] = [];
      for (const path of PATHS) {
        const g = await c.get(path);
        const h = await c.request('HEAD', path);
        get.push(`${path} ${g.status} ${g.location ?? ''}`);
        head.push(`${path} ${h.status} ${h.location ?? ''}`);
        assert.equal(h.text, '', `HEAD ${path} has no body`);
      }
      return { get, head };
    };

    it('answers as GET does (without the body) on every page, signed out, as a user and as an administrator', async () => {
      const signedOut = await both(client());
      assert.deepEqual(signedOut.head, signedOut.get);
      assert.ok(signedOut.head.includes('/ 303 /signin'));
      const user = await both(await ann());
      assert.deepEqual(user.head, user.get);
      assert.ok(user.head.includes('/admin/settings 403 '));
      const administrator = await both(await admin());
      assert.deepEqual(administrator.head, administrator.get);
      assert.ok(administrator.head.includes('/admin/settings 200 '));
    });
  });
});
