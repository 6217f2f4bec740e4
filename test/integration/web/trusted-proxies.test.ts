/**
 * X-Forwarded-For and X-Forwarded-Proto over HTTP on real primaries: believed only from the
 * configured trusted proxies (`trustedProxies`, here a CIDR range holding the test's loopback
 * address), ignored from anyone else.
 */
import assert from 'node:assert/strict';
import type { RunningPrimary } from '../../../primary/boot';
import { describeOnEachDatabase } from '../../utils/databases';
import { sharedPrimary } from '../../utils/primary';
import { WebClient } from '../../utils/web-client';

describeOnEachDatabase('trusted proxies', (t) => {
  let direct: RunningPrimary;
  let proxied: RunningPrimary;
  const sharedDirect = sharedPrimary(t);
  const sharedProxied = sharedPrimary(t, { trustedProxies: '127.0.0.0/8, ::1' });

  beforeEach(async () => {
    direct = sharedDirect.primary;
    proxied = sharedProxied.primary;
    await direct.services.users.createUser({ username: 'ann', password: 'ann-password-1' });
  });

  const addressRows = async (): Promise<string[]> =>
    (await t.db.knex('web_signin_failures').where('throttle_key', 'like', 'ip:%').orderBy('throttle_key').pluck('throttle_key')) as string[];

  /** Signs in through `p` with the given forwarding headers; the Set-Cookie of the session and the HSTS header. */
  const signIn = async (
    p: RunningPrimary,
    password: string,
    headers: Record<string, string>,
  ): Promise<{ status: number; cookie: string; hsts: string | null }> => {
    const c = new WebClient(`http://127.0.0.1:${p.httpPort}`);
    await c.get('/signin', headers);
    const body = new URLSearchParams({ username: 'ann', password, _csrf: c.csrf });
    const res = await fetch(`${c.base}/signin`, {
      method: 'POST',
      redirect: 'manual',
      body,
      headers: { ...headers, cookie: `quotient_signin=${c.csrf}`, 'content-type': 'application/x-www-form-urlencoded' },
    });
    return {
      status: res.status,
      cookie: res.headers.getSetCookie().find((x) => x.startsWith('quotient_session=')) ?? '',
      hsts: res.headers.get('strict-transport-security'),
    };
  };

  it('ignores the headers from a client that is not a trusted proxy', async () => {
    const failed = await signIn(direct, 'wrong', { 'x-forwarded-for': '198.51.100.7' });
    assert.equal(failed.status, 401);
    assert.deepEqual(await addressRows(), ['ip:127.0.0.1']);
    const ok = await signIn(direct, 'ann-password-1', { 'x-forwarded-for': '198.51.100.7', 'x-forwarded-proto': 'https' });
    assert.equal(ok.status, 303);
    assert.doesNotMatch(ok.cookie, /Secure/);
    assert.equal(ok.hsts, null);
  });

  it("takes the client from a trusted proxy's X-Forwarded-For (the nearest untrusted address) and TLS from its X-Forwarded-Proto", async () => {
    assert.equal((await signIn(proxied, 'wrong', { 'x-forwarded-for': '198.51.100.7' })).status, 401);
    // A client that sends its own header gets the proxy's address appended: the appended one counts.
    assert.equal((await signIn(proxied, 'wrong', { 'x-forwarded-for': '203.0.113.9, 198.51.100.8' })).status, 401);
    // Two proxies in the trusted range: the client is the address before them.
    assert.equal((await signIn(proxied, 'wrong', { 'x-forwarded-for': '2001:db8::5, 127.0.0.2' })).status, 401);
    assert.deepEqual(await addressRows(), ['ip:198.51.100.7', 'ip:198.51.100.8', 'ip:2001:db8::5']);
    const ok = await signIn(proxied, 'ann-password-1', { 'x-forwarded-for': '198.51.100.7', 'x-forwarded-proto': 'https' });
    assert.equal(ok.status, 303);
    assert.match(ok.cookie, /; Secure/);
    assert.equal(ok.hsts, 'max-age=31536000; includeSubDomains');
  });
});
