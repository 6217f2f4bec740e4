/**
 * What the web tools answer to requests the HTTP layer refuses or treats specially, on a real
 * started primary (one per dialect, shared by the tests; each test starts from empty tables):
 * unreadable paths and bodies (400), oversized forms (413), HEAD answered as GET. Each is a class
 * of input, so each is sent to every kind of route: signed out, signed in, admin, sign-in form.
 */
import assert from 'node:assert/strict';
import type { RunningPrimary } from '../../../primary/boot';
import { describeOnEachDatabase } from '../../utils/databases';
import { startTestPrimary } from '../../utils/primary';
import { WebClient, errorText, recordingLogger, type WebAnswer } from '../../utils/web-client';

const ADMIN_PASSWORD = 'admin-password-for-tests';
const BAD_REQUEST = 'That request could not be read: the address or the form is damaged. Check the link, or reload the page and try again.';
const TOO_LARGE = 'That form is too large to send. Send less at a time, or reload the page and try again.';

describeOnEachDatabase('web tools over HTTP', (t) => {
  let primary: RunningPrimary;
  let base: string;
  const log = recordingLogger();
  let annId: number;

  before(async () => {
    primary = await startTestPrimary(t, {}, { logger: log.logger });
    base = `http://127.0.0.1:${primary.httpPort}`;
  });

  after(async () => {
    await primary.shutdown();
  });

  beforeEach(async () => {
    // The tables were emptied: the administrator the primary created at start is gone too.
    await primary.services.users.createUser({ username: 'admin', password: ADMIN_PASSWORD, isAdmin: true, restricted: false });
    annId = (await primary.services.users.createUser({ username: 'ann', password: 'ann-password-1', restricted: true, initialCredit: 1000 })).id;
    log.entries.length = 0;
  });

  const client = (): WebClient => new WebClient(base);
  const admin = (): Promise<WebClient> => client().signedIn('admin', ADMIN_PASSWORD);
  const ann = (): Promise<WebClient> => client().signedIn('ann', 'ann-password-1');

  /** Log entries at error level or above (pino: 50), and the client errors (warn, 40) by path. */
  const serverErrors = (): unknown[] => log.entries.filter((e) => Number(e.level) >= 50);
  const clientErrors = (): string[] => log.entries.filter((e) => Number(e.level) === 40 && /client error$/.test(String(e.msg))).map((e) => `${String(e.status)} ${String(e.path)}`);

  const assertPage = (res: WebAnswer, status: number, message: string, what: string): void => {
    assert.equal(res.status, status, what);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/, what);
    assert.equal(errorText(res), message, what);
  };

  describe('a path with malformed percent-encoding, an unknown charset or content encoding', () => {
    it('answers 400 with a readable page on every route with a path parameter, logged as a client error', async () => {
      const a = await admin();
      const gets = ['/admin/users/%E0%A4%A', '/admin/printers/%E0%A4%A/filters', '/admin/rate-cards/%E0%A4%A', '/admin/quotas/%E0%A4%A/runs/1', '/admin/quotas/x/runs/%E0%A4%A'];
      for (const path of gets) assertPage(await a.get(path), 400, BAD_REQUEST, path);
      const posts = ['/admin/users/%E0%A4%A/adjust', '/admin/users/%E0%A4%A/account', '/admin/printers/%E0%A4%A/enabled', '/admin/printers/%E0%A4%A/charging', '/admin/printers/%E0%A4%A/filters', '/admin/rate-cards/%E0%A4%A', '/admin/refunds/%E0%A4%A/approve', '/admin/quotas/%E0%A4%A/enabled', '/admin/quotas/%E0%A4%A/remove', '/admin/quotas/%E0%A4%A/run'];
      for (const path of posts) assertPage(await a.post(path, { amount: '1', formKey: 'aaaaaaaaaaaaaaaaaaaa' }), 400, BAD_REQUEST, `POST ${path}`);
      assert.deepEqual(serverErrors(), []);
      assert.deepEqual(clientErrors(), [...gets, ...posts].map((p) => `400 ${p}`));
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
      assertPage(await a.post(`/admin/users/${annId}/adjust`, { amount: '5', formKey: 'aaaaaaaaaaaaaaaaaaaa' }, encoding), 400, BAD_REQUEST, 'adjust, encoding');
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
      assertPage(await a.post(`/admin/users/${annId}/adjust`, [['amount', '5'], ['formKey', 'aaaaaaaaaaaaaaaaaaaa'], ...many]), 413, TOO_LARGE, 'adjust, 2,100 fields');
      assertPage(await a.post('/admin/rate-cards', { name: 'Huge', ...big }), 413, TOO_LARGE, 'rate card, 200 kB');
      const u = await ann();
      assertPage(await u.post('/transfers', { to: 'admin', amount: '1', ...big }), 413, TOO_LARGE, 'transfer, 200 kB');
      assertPage(await u.post('/signout', Object.fromEntries(many)), 413, TOO_LARGE, 'sign-out, 2,100 fields');
      assert.deepEqual(serverErrors(), []);
      assert.deepEqual(clientErrors(), ['/signin', '/signin', '/admin/settings', '/admin/settings', `/admin/users/${annId}/adjust`, '/admin/rate-cards', '/transfers', '/signout'].map((p) => `413 ${p}`));
      // The signed-in page says who is signed in; nothing was changed or logged with the body.
      assert.equal(await t.db.knex('settings').where({ key: 'currency.symbol' }).first(), undefined);
      assert.equal((await primary.services.users.personalAccount(annId)).balance, 1000);
      assert.ok(!JSON.stringify(log.entries).includes('xxxxxxxxxx'));
      assert.ok(!JSON.stringify(log.entries).includes(ADMIN_PASSWORD));
    });

    it('accepts a form just under the limits', async () => {
      const a = await admin();
      const res = await a.post(`/admin/users/${annId}/adjust`, [['amount', '5'], ['comment', 'x'.repeat(900)], ['formKey', 'aaaaaaaaaaaaaaaaaaaa'], ...many.slice(0, 1990)]);
      assert.equal(res.status, 303);
      assert.equal((await primary.services.users.personalAccount(annId)).balance, 1500);
    });
  });

  describe('HEAD', () => {
    const PATHS = ['/', '/signin', '/jobs', '/transactions', '/internet', '/rates', '/widget', '/widget/help', '/transfers', '/admin', '/admin/users', `/admin/users/1`, '/admin/settings', '/admin/groups', '/admin/printers', '/admin/nothing', '/static/quotient.css', '/healthz', '/api/nothing'];

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
