/**
 * ApiClientService on each dialect: a client's secret is kept only as a scrypt hash and buys a
 * token that lasts an hour; narrowing, revoking and rotating behave as docs/api.md says, and every
 * change is audited with its actor.
 */
import assert from 'node:assert/strict';
import { listAudit } from '../../../primary/audit/audit-log';
import { ApiClientService } from '../../../primary/api-clients/api-client-service';
import { describeOnEachDatabase } from '../../utils/databases';

describeOnEachDatabase('ApiClientService', (t) => {
  let clock = 1_800_000_000_000;
  let service: ApiClientService;
  beforeEach(() => {
    clock = 1_800_000_000_000;
    service = new ApiClientService({ db: t.db, now: () => clock });
  });

  describe('add()', () => {
    it('returns a client id and a secret shown once, keeping only a scrypt hash of the secret, and audits the actor', async () => {
      const { client, clientSecret } = await service.add({ name: 'portal', scopes: 'users:read,balances:write', actor: 'cli:root' });
      assert.match(client.clientId, /^qc_[0-9a-f]{24}$/);
      assert.match(clientSecret, /^[A-Za-z0-9_-]{43}$/);
      assert.deepEqual(client.scopes, ['users:read', 'balances:write']);
      const row = (await t.db.knex('api_clients').where({ name: 'portal' }).first()) as { secret_hash: string };
      assert.match(row.secret_hash, /^scrypt\$/);
      assert.ok(!row.secret_hash.includes(clientSecret));
      const [audit] = await listAudit(t.db.knex, { targetType: 'api-client', targetId: 'portal' });
      assert.deepEqual(
        { actor: audit?.actor, action: audit?.action, details: audit?.details },
        { actor: 'cli:root', action: 'api-client.add', details: { clientId: client.clientId, scopes: ['users:read', 'balances:write'] } },
      );
    });

    it('refuses a taken name, an unknown scope and no scope at all', async () => {
      await service.add({ name: 'portal', scopes: 'users:read', actor: 'a' });
      await assert.rejects(service.add({ name: 'portal', scopes: 'users:read', actor: 'a' }), { code: 'ALREADY_EXISTS' });
      await assert.rejects(service.add({ name: 'other', scopes: 'users:read,users:delete', actor: 'a' }), {
        code: 'VALIDATION',
        message: /unknown scope\(s\): users:delete/,
      });
      await assert.rejects(service.add({ name: 'other', scopes: ' , ', actor: 'a' }), { code: 'VALIDATION' });
      assert.deepEqual(
        (await service.list()).map((c) => c.name),
        ['portal'],
      );
    });
  });

  describe('issueToken() and authenticate()', () => {
    it('issues a token for an hour carrying all the client scopes, and refuses it from the hour on', async () => {
      const { client, clientSecret } = await service.add({ name: 'pharos', scopes: 'cloudprint:billing-accounts users:read', actor: 'a' });
      const issued = await service.issueToken({ clientId: client.clientId, clientSecret });
      assert.ok('accessToken' in issued);
      assert.equal(issued.expiresIn, 3600);
      assert.equal(issued.scope, 'cloudprint:billing-accounts users:read');
      const auth = await service.authenticate(issued.accessToken);
      assert.deepEqual(auth?.client, { id: client.id, name: 'pharos', clientId: client.clientId });
      assert.deepEqual([...(auth?.scopes ?? [])].sort(), ['accounts:read', 'accounts:write', 'activities:write', 'users:read']);
      const stored = (await t.db.knex('api_tokens').select('token_hash')) as { token_hash: string }[];
      assert.equal(stored.length, 1);
      assert.notEqual(stored[0]?.token_hash, issued.accessToken);
      clock += 3_599_999;
      assert.notEqual(await service.authenticate(issued.accessToken), null);
      clock += 1;
      assert.equal(await service.authenticate(issued.accessToken), null);
    });

    it('refuses a wrong secret, an unknown client id and a tampered token', async () => {
      const { client, clientSecret } = await service.add({ name: 'portal', scopes: 'users:read', actor: 'a' });
      assert.deepEqual(await service.issueToken({ clientId: client.clientId, clientSecret: `${clientSecret}x` }), { refused: 'invalid_client' });
      assert.deepEqual(await service.issueToken({ clientId: 'qc_nobody', clientSecret }), { refused: 'invalid_client' });
      const issued = await service.issueToken({ clientId: client.clientId, clientSecret });
      assert.ok('accessToken' in issued);
      const tampered = issued.accessToken.slice(0, -1) + (issued.accessToken.endsWith('A') ? 'B' : 'A');
      assert.equal(await service.authenticate(tampered), null);
    });

    it('narrows a token to the scopes asked for, and refuses scopes the client lacks or that do not exist', async () => {
      const { client, clientSecret } = await service.add({ name: 'pharos', scopes: 'cloudprint:billing-accounts', actor: 'a' });
      const narrow = await service.issueToken({ clientId: client.clientId, clientSecret, scope: 'accounts:read' });
      assert.ok('accessToken' in narrow);
      assert.equal(narrow.scope, 'accounts:read');
      assert.deepEqual([...((await service.authenticate(narrow.accessToken))?.scopes ?? [])], ['accounts:read']);
      assert.deepEqual(await service.issueToken({ clientId: client.clientId, clientSecret, scope: 'accounts:read users:read' }), { refused: 'invalid_scope' });
      assert.deepEqual(await service.issueToken({ clientId: client.clientId, clientSecret, scope: 'everything' }), { refused: 'invalid_scope' });
    });
  });

  describe('revoke() and rotate()', () => {
    it('revoking ends the client tokens at once and refuses new ones; a second revoke changes nothing', async () => {
      const { client, clientSecret } = await service.add({ name: 'portal', scopes: 'users:read', actor: 'a' });
      const issued = await service.issueToken({ clientId: client.clientId, clientSecret });
      assert.ok('accessToken' in issued);
      assert.deepEqual(await service.revoke('portal', 'web:admin'), { changed: true });
      assert.equal(await service.authenticate(issued.accessToken), null);
      assert.deepEqual(await service.issueToken({ clientId: client.clientId, clientSecret }), { refused: 'invalid_client' });
      assert.deepEqual(await service.revoke('portal', 'web:admin'), { changed: false });
      assert.equal((await service.get('portal')).revokedAt, clock);
      const actions = (await listAudit(t.db.knex, { targetType: 'api-client', targetId: 'portal' })).map((a) => `${a.action} by ${a.actor}`);
      assert.deepEqual(actions, ['api-client.revoke by web:admin', 'api-client.add by a']);
      await assert.rejects(service.revoke('nobody', 'a'), { code: 'NOT_FOUND' });
    });

    it('rotating gives a new secret, ends the old tokens and refuses the old secret', async () => {
      const { client, clientSecret } = await service.add({ name: 'portal', scopes: 'users:read', actor: 'a' });
      const old = await service.issueToken({ clientId: client.clientId, clientSecret });
      assert.ok('accessToken' in old);
      const rotated = await service.rotate('portal', 'cli:ops');
      assert.equal(rotated.client.clientId, client.clientId);
      assert.notEqual(rotated.clientSecret, clientSecret);
      assert.equal(await service.authenticate(old.accessToken), null);
      assert.deepEqual(await service.issueToken({ clientId: client.clientId, clientSecret }), { refused: 'invalid_client' });
      assert.ok('accessToken' in (await service.issueToken({ clientId: client.clientId, clientSecret: rotated.clientSecret })));
      const [audit] = await listAudit(t.db.knex, { targetType: 'api-client', targetId: 'portal' });
      assert.equal(`${audit?.action} by ${audit?.actor}`, 'api-client.rotate by cli:ops');
    });
  });
});
