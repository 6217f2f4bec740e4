/**
 * Sign-in throttling per client address, in Chromium: many failed sign-ins with made-up names
 * from one address (directly, or behind a trusted reverse proxy that names the client in
 * X-Forwarded-For) slow that address down but never keep the administrator out. The address's
 * delays are recorded by the test primary instead of waited for.
 */
import assert from 'node:assert/strict';
import type { BrowserContext, Page } from 'playwright-core';
import type { RunningPrimary } from '../../../primary/boot';
import { describeEndToEnd } from '../../utils/databases';
import { startTestPrimary } from '../../utils/primary';
import { DESKTOP, sharedBrowser, signIn } from './browser';

const ADMIN_PASSWORD = 'admin-password-for-tests';
/** The recorded delays of 24 failures and one more attempt: 20 free, then 250 ms doubling. */
const DELAYS = [250, 500, 1000, 2000, 4000];

/** 25 sign-ins (a scrypt each) through the browser: longer than most tests on a busy 2-core machine. */
const TIMEOUT_MS = 120_000;

describeEndToEnd('sign-in throttling per address in Chromium', (t) => {
  let primary: RunningPrimary | undefined;
  let base: string;
  let slept: number[];
  const contexts: BrowserContext[] = [];

  const start = async (extra: Record<string, unknown> = {}): Promise<void> => {
    slept = [];
    primary = await startTestPrimary(t, extra, { signinSleep: async (ms) => void slept.push(ms) });
    base = `http://127.0.0.1:${primary.httpPort}`;
    await primary.services.users.createUser({ username: 'ann', password: 'ann-password-1', restricted: true, initialCredit: 1234 });
  };

  afterEach(async () => {
    for (const c of contexts.splice(0)) await c.close();
    await primary?.shutdown();
    primary = undefined;
  });

  async function browse(forwardedFor?: string): Promise<{ page: Page; context: BrowserContext }> {
    const context = await (
      await sharedBrowser()
    ).newContext({ viewport: DESKTOP, javaScriptEnabled: false, ...(forwardedFor ? { extraHTTPHeaders: { 'X-Forwarded-For': forwardedFor } } : {}) });
    contexts.push(context);
    return { page: await context.newPage(), context };
  }

  /**
   * Fails to sign in as `made-up-<i>`, `count` times, each from the form the last failure showed;
   * every answer is the ordinary 401, never 429.
   */
  async function guess(page: Page, count: number, forwardedFor?: (i: number) => string): Promise<void> {
    await page.goto(`${base}/signin`);
    for (let i = 0; i < count; i++) {
      if (forwardedFor) await page.context().setExtraHTTPHeaders({ 'X-Forwarded-For': forwardedFor(i) });
      await page.fill('input[name=username]', `made-up-${i}`);
      await page.fill('input[name=password]', 'Password1');
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.url() === `${base}/signin` && r.request().method() === 'POST'),
        page.click('button[type=submit]'),
      ]);
      assert.equal(response.status(), 401, `attempt ${i + 1}`);
      assert.equal(((await page.textContent('#signin-error')) ?? '').trim(), 'The username or password is not right.');
    }
  }

  const addressRows = async (): Promise<string[]> =>
    (
      (await t.db.knex('web_signin_failures').where('throttle_key', 'like', 'ip:%').orderBy('throttle_key').select('throttle_key', 'failures')) as {
        throttle_key: string;
        failures: number;
      }[]
    ).map((r) => `${r.throttle_key}=${Number(r.failures)}`);

  it('without a trusted proxy: ignores X-Forwarded-For, slows the address after 20 failures with made-up names, and still signs the administrator in', async function () {
    this.timeout(TIMEOUT_MS);
    await start();
    const attacker = await browse();
    // Each attempt names another client: with no trusted proxy the header is ignored.
    await guess(attacker.page, 24, (i) => `203.0.113.${i}`);
    assert.deepEqual(await addressRows(), ['ip:127.0.0.1=24']);
    assert.deepEqual(slept, DELAYS.slice(0, 4));

    const admin = await browse();
    await signIn(admin.page, base, 'admin', ADMIN_PASSWORD);
    assert.equal(admin.page.url(), `${base}/`);
    assert.equal(await admin.page.locator('nav a[href="/admin"]').count(), 1);
    assert.deepEqual(slept, DELAYS); // slowed like every attempt from the address, not refused
  });

  it('behind a trusted proxy: counts the client named by X-Forwarded-For, not a name the client adds, and never keeps the administrator out', async function () {
    this.timeout(TIMEOUT_MS);
    await start({ trustedProxies: ['127.0.0.1'] });
    const attacker = await browse();
    // Every other attempt prepends a made-up client to the chain: the proxy appends the real one, which is what counts.
    await guess(attacker.page, 24, (i) => (i % 2 === 0 ? '198.51.100.7' : `203.0.113.${i}, 198.51.100.7`));
    assert.deepEqual(await addressRows(), ['ip:198.51.100.7=24']);
    assert.deepEqual(slept, DELAYS.slice(0, 4));

    // The administrator behind the same NAT (the same client address at the proxy) signs in, slowed.
    const admin = await browse('198.51.100.7');
    await signIn(admin.page, base, 'admin', ADMIN_PASSWORD);
    assert.equal(await admin.page.locator('nav a[href="/admin"]').count(), 1);
    assert.deepEqual(slept, DELAYS);
    // A user at another address is not slowed at all.
    const ann = await browse('198.51.100.8');
    await signIn(ann.page, base, 'ann', 'ann-password-1');
    assert.equal(((await ann.page.textContent('#balance')) ?? '').trim(), '$12.34');
    assert.deepEqual(slept, DELAYS);
  });
});
