/**
 * POST /oauth/token and requireScopes() over HTTP on each dialect, against the primary's own HTTP
 * app (primary/http/app.ts) with an injected clock: a token for HTTP Basic or form credentials,
 * RFC 6749 §5.2 errors, narrowing, expiry, revocation at once, insufficient scope, and no token
 * or secret in anything logged. The scope check is tried on a small route mounted here, as the
 * REST router will mount it.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Writable } from 'node:stream';
import express from 'express';
import pino from 'pino';
import { requireScopes } from '../../../primary/api/oauth';
import { createHttpApp } from '../../../primary/http/app';
import { createServices, type Services } from '../../../primary/services';
import { describeOnEachDatabase } from '../../utils/databases';

describeOnEachDatabase('OAuth 2 client credentials over HTTP', (t) => {
  let clock = 1_800_000_000_000;
  let services: Services;
  let server: Server;
  let base: string;
  let logged = '';
  let client: { clientId: string; clientSecret: string };

  before(async () => {
    services = createServices(t.db, { now: () => clock });
    const logger = pino(
      { level: 'debug' },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          logged += chunk.toString();
          done();
        },
      }),
    );
    const app = express();
    app.get('/probe/users', requireScopes(services.apiClients, 'users:read'), (_req, res) => {
      res.json({ client: res.locals.apiClient?.client.name });
    });
    app.get('/probe/accounts', requireScopes(services.apiClients, 'accounts:read', 'activities:write'), (_req, res) => {
      res.json({ client: res.locals.apiClient?.client.name });
    });
    app.use(createHttpApp(services, logger));
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(async () => {
    clock = 1_800_000_000_000;
    const made = await services.apiClients.add({ name: 'portal', scopes: 'users:read,cloudprint:billing-accounts', actor: 'test' });
    client = { clientId: made.client.clientId, clientSecret: made.clientSecret };
  });

  const basic = (id: string, secret: string): string => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
  const token = async (form: Record<string, string>, authorization?: string): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> => {
    const res = await fetch(`${base}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization && { authorization }) },
      body: new URLSearchParams(form).toString(),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
  };
  const tokenFor = async (scope?: string): Promise<string> => {
    const r = await token({ grant_type: 'client_credentials', ...(scope && { scope }) }, basic(client.clientId, client.clientSecret));
    assert.equal(r.status, 200);
    return r.body.access_token as string;
  };
  const probe = async (path: string, authorization?: string): Promise<{ status: number; body: unknown; challenge: string | null }> => {
    const res = await fetch(`${base}${path}`, { headers: authorization ? { authorization } : {} });
    return { status: res.status, body: await res.json(), challenge: res.headers.get('www-authenticate') };
  };

  it('issues a bearer token for an hour to HTTP Basic credentials, not cached, which opens a route of its scope', async () => {
    const r = await token({ grant_type: 'client_credentials' }, basic(client.clientId, client.clientSecret));
    assert.equal(r.status, 200);
    assert.deepEqual(
      { ...r.body, access_token: typeof r.body.access_token },
      {
        access_token: 'string',
        token_type: 'Bearer',
        expires_in: 3600,
        scope: 'users:read cloudprint:billing-accounts',
      },
    );
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await probe('/probe/users', `Bearer ${String(r.body.access_token)}`), { status: 200, body: { client: 'portal' }, challenge: null });
    assert.deepEqual(await probe('/probe/accounts', `Bearer ${String(r.body.access_token)}`), { status: 200, body: { client: 'portal' }, challenge: null });
  });

  it('accepts client_id and client_secret in the form, and refuses both ways at once', async () => {
    const r = await token({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret });
    assert.equal(r.status, 200);
    assert.equal((await probe('/probe/users', `Bearer ${String(r.body.access_token)}`)).status, 200);
    const both = await token(
      { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret },
      basic(client.clientId, client.clientSecret),
    );
    assert.equal(both.status, 401);
    assert.equal(both.body.error, 'invalid_client');
  });

  it('refuses a wrong secret and an unknown client with 401 invalid_client and a Basic challenge', async () => {
    for (const auth of [basic(client.clientId, 'wrong'), basic('qc_nobody', client.clientSecret)]) {
      const r = await token({ grant_type: 'client_credentials' }, auth);
      assert.equal(r.status, 401);
      assert.equal(r.body.error, 'invalid_client');
      assert.equal(r.headers.get('www-authenticate'), 'Basic realm="quotient"');
    }
    const none = await token({ grant_type: 'client_credentials' });
    assert.equal(none.status, 401);
    assert.equal(none.body.error, 'invalid_client');
  });

  it('answers 400 unsupported_grant_type, invalid_request and invalid_scope as RFC 6749 §5.2 says', async () => {
    const auth = basic(client.clientId, client.clientSecret);
    assert.deepEqual(
      [(await token({ grant_type: 'password' }, auth)).body.error, (await token({}, auth)).body.error],
      ['unsupported_grant_type', 'invalid_request'],
    );
    const r = await token({ grant_type: 'client_credentials', scope: 'balances:write' }, auth);
    assert.deepEqual([r.status, r.body.error], [400, 'invalid_scope']);
    assert.equal((await token({ grant_type: 'client_credentials', scope: 'root' }, auth)).body.error, 'invalid_scope');
  });

  it('narrows a token to the scope asked for: a route needing another scope answers 403 insufficient_scope', async () => {
    const narrow = await tokenFor('users:read');
    assert.equal((await probe('/probe/users', `Bearer ${narrow}`)).status, 200);
    assert.deepEqual(await probe('/probe/accounts', `Bearer ${narrow}`), {
      status: 403,
      body: { error: 'insufficient_scope', error_description: 'this needs accounts:read activities:write' },
      challenge: 'Bearer realm="quotient", error="insufficient_scope", scope="accounts:read activities:write"',
    });
  });

  it('refuses a missing, tampered or expired token with 401 and a Bearer challenge', async () => {
    const access = await tokenFor();
    assert.deepEqual(await probe('/probe/users'), {
      status: 401,
      body: { error: 'invalid_request', error_description: 'a bearer token is required' },
      challenge: 'Bearer realm="quotient", scope="users:read"',
    });
    const tampered = await probe('/probe/users', `Bearer ${access}x`);
    assert.equal(tampered.status, 401);
    assert.equal(tampered.challenge, 'Bearer realm="quotient", error="invalid_token", scope="users:read"');
    clock += 3_599_999;
    assert.equal((await probe('/probe/users', `Bearer ${access}`)).status, 200);
    clock += 1;
    const expired = await probe('/probe/users', `Bearer ${access}`);
    assert.deepEqual([expired.status, expired.body], [401, { error: 'invalid_token', error_description: 'the token is unknown, expired or revoked' }]);
  });

  it("refuses a revoked client's token at once, and a rotated client's old token", async () => {
    const first = await tokenFor();
    await services.apiClients.rotate('portal', 'test');
    assert.equal((await probe('/probe/users', `Bearer ${first}`)).status, 401);
    client.clientSecret = (await services.apiClients.rotate('portal', 'test')).clientSecret;
    const second = await tokenFor();
    assert.equal((await probe('/probe/users', `Bearer ${second}`)).status, 200);
    await services.apiClients.revoke('portal', 'test');
    assert.equal((await probe('/probe/users', `Bearer ${second}`)).status, 401);
    assert.equal((await token({ grant_type: 'client_credentials' }, basic(client.clientId, client.clientSecret))).status, 401);
  });

  it('logs neither secrets nor tokens, even for a request the server refuses as malformed', async () => {
    const access = await tokenFor();
    const res = await fetch(`${base}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=koi8-x', authorization: basic(client.clientId, client.clientSecret) },
      body: `grant_type=client_credentials&client_secret=${client.clientSecret}`,
    });
    assert.equal(res.status, 400);
    await probe('/probe/users', `Bearer ${access}`);
    assert.match(logged, /client error/);
    assert.ok(!logged.includes(client.clientSecret) && !logged.includes(access), logged);
  });
});
