/**
 * `quotient api-clients add|list|revoke|rotate` run in process on each dialect: the secret is
 * printed once and works for a token; --json prints clientId and clientSecret; revoking and
 * rotating end the old credentials; unknown scopes and names are refused with exit 1.
 */
import assert from 'node:assert/strict';
import { cliAgainst } from '../../utils/cli';
import { describeOnEachDatabase } from '../../utils/databases';
import { servicesFor } from '../../utils/fixtures';

describeOnEachDatabase('quotient api-clients', (t) => {
  const { ok, fails } = cliAgainst(t);

  it('adds a client whose printed secret buys a token, and lists it with its scopes', async () => {
    const out = await ok('api-clients', 'add', 'portal', '--scopes', 'users:read,balances:write');
    const [, clientId] = /^client id {6}(qc_[0-9a-f]{24})$/m.exec(out) ?? [];
    const [, clientSecret] = /^client secret {2}(\S{43})$/m.exec(out) ?? [];
    assert.ok(clientId && clientSecret, out);
    assert.match(out, /^added API client portal\n/);
    assert.ok('accessToken' in (await servicesFor(t.db).apiClients.issueToken({ clientId, clientSecret })));

    const list = (await ok('api-clients', 'list')).split('\n');
    assert.match(list[0]!, /^NAME +CLIENT ID +SCOPES +CREATED +BY +STATE$/);
    assert.match(list[1]!, new RegExp(`^portal +${clientId} +users:read,balances:write +\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z +cli:\\S+ +active$`));
    assert.equal(list.length, 3);
  });

  it('prints clientId and clientSecret as JSON, and rotate --json a new secret that replaces the old', async () => {
    const made = JSON.parse(await ok('api-clients', 'add', 'pharos', '--scopes', 'cloudprint:billing-accounts', '--json')) as Record<string, string>;
    assert.deepEqual(Object.keys(made), ['clientId', 'clientSecret']);
    const rotated = JSON.parse(await ok('api-clients', 'rotate', 'pharos', '--json')) as Record<string, string>;
    assert.equal(rotated.clientId, made.clientId);
    assert.notEqual(rotated.clientSecret, made.clientSecret);
    const service = servicesFor(t.db).apiClients;
    assert.deepEqual(await service.issueToken({ clientId: made.clientId!, clientSecret: made.clientSecret! }), { refused: 'invalid_client' });
    assert.ok('accessToken' in (await service.issueToken({ clientId: rotated.clientId!, clientSecret: rotated.clientSecret! })));
    const [listed] = JSON.parse(await ok('api-clients', 'list', '--json')) as { name: string; scopes: string[]; revokedAt: null }[];
    assert.deepEqual([listed?.name, listed?.scopes, listed?.revokedAt], ['pharos', ['cloudprint:billing-accounts'], null]);
  });

  it('revokes a client once, and refuses unknown scopes, unknown clients and a taken name', async () => {
    await ok('api-clients', 'add', 'portal', '--scopes', 'users:read');
    assert.equal(await ok('api-clients', 'revoke', 'portal'), 'revoked API client portal\n');
    assert.equal(await ok('api-clients', 'revoke', 'portal'), 'API client portal was already revoked; nothing changed\n');
    assert.match(await ok('api-clients', 'list'), /^portal .* revoked$/m);
    await fails(/API client portal is revoked/, 'api-clients', 'rotate', 'portal');
    await fails(/unknown scope\(s\): users:delete/, 'api-clients', 'add', 'other', '--scopes', 'users:delete');
    await fails(/API client not found: nobody/, 'api-clients', 'revoke', 'nobody');
    await fails(/API client already exists: portal/, 'api-clients', 'add', 'portal', '--scopes', 'users:read');
    assert.equal(await ok('api-clients', 'list', '--json'), `${JSON.stringify(await servicesFor(t.db).apiClients.list())}\n`);
  });
});
