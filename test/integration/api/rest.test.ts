/**
 * The REST API (/api/v1) over HTTP on each dialect, against a shared primary with a token from
 * POST /oauth/token. Every answer is checked against the served OpenAPI 3.1 document with ajv
 * (JSON Schema 2020-12), and the document itself with swagger-parser; the last test proves every
 * documented operation was exercised.
 */
import assert from 'node:assert/strict';
import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { OPENAPI_DOCUMENT } from '../../../primary/api/openapi';
import { describeOnEachDatabase } from '../../utils/databases';
import { sharedPrimary } from '../../utils/primary';

interface Answer {
  status: number;
  type: string;
  body: Record<string, unknown>;
  headers: Headers;
}

/** Checks an answer against the document's schema for its operation, status and media type. */
function contractChecker(): { check(path: string, method: string, a: Answer): void; checked: Set<string> } {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ ...structuredClone(OPENAPI_DOCUMENT), $id: 'openapi.json' });
  const checked = new Set<string>();
  return {
    checked,
    check(path, method, a) {
      const op = (OPENAPI_DOCUMENT.paths as Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>)[
        path
      ]?.[method];
      assert.ok(op, `${method} ${path} is not in the document`);
      const response = op.responses[String(a.status)];
      assert.ok(response, `${method} ${path} answered ${a.status}, which the document does not list`);
      const mediaType = a.type.split(';')[0]!.trim();
      const schema = response.content?.[mediaType]?.schema;
      assert.ok(schema, `${method} ${path} ${a.status} answered ${mediaType}, which the document does not list`);
      const resolved = JSON.parse(JSON.stringify(schema).replace(/"#\/components/g, '"openapi.json#/components')) as object;
      const validate = ajv.compile(resolved);
      assert.ok(validate(a.body), `${method} ${path} ${a.status}: ${ajv.errorsText(validate.errors)}`);
      checked.add(`${method} ${path} ${a.status}`);
    },
  };
}

describeOnEachDatabase('REST API /api/v1', (t) => {
  const shared = sharedPrimary(t);
  const contract = contractChecker();
  let tokens: Record<'read' | 'write' | 'both', string>;

  const token = async (scopes: string): Promise<string> => {
    const made = await shared.primary.services.apiClients.add({ name: `portal-${scopes.replace(/\W/g, '-')}`, scopes, actor: 'test' });
    const res = await fetch(`${shared.base}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: made.client.clientId, client_secret: made.clientSecret }).toString(),
    });
    assert.equal(res.status, 200);
    return ((await res.json()) as { access_token: string }).access_token;
  };

  /** Calls the API, checks the answer against the document for `template`, and returns it. */
  const call = async (
    method: 'get' | 'post',
    template: string,
    path: string,
    opts: { token: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<Answer> => {
    const res = await fetch(`${shared.base}/api/v1${path}`, {
      method: method.toUpperCase(),
      headers: { authorization: `Bearer ${opts.token}`, ...(opts.body !== undefined && { 'content-type': 'application/json' }), ...opts.headers },
      ...(opts.body !== undefined && { body: JSON.stringify(opts.body) }),
    });
    const answer = {
      status: res.status,
      type: res.headers.get('content-type') ?? '',
      body: (await res.json()) as Record<string, unknown>,
      headers: res.headers,
    };
    contract.check(template, method, answer);
    return answer;
  };
  const adjust = (username: string, body: unknown, key?: string, tok = tokens.write): Promise<Answer> =>
    call('post', '/users/{username}/adjustments', `/users/${username}/adjustments`, {
      token: tok,
      body,
      headers: key === undefined ? {} : { 'idempotency-key': key },
    });

  beforeEach(async () => {
    const { users } = shared.primary.services;
    await users.createUser({ username: 'alice', fullName: 'Alice Ames', department: 'Physics', initialCredit: 1000 });
    await users.createUser({ username: 'bob', fullName: 'Bob Brown', department: 'History', initialCredit: 250 });
    await users.createUser({ username: 'carol', fullName: 'Carol Chen', department: 'Physics', initialCredit: 0 });
    tokens = { read: await token('users:read'), write: await token('balances:write'), both: await token('users:read,balances:write') };
  });

  it('serves an OpenAPI 3.1 document that swagger-parser finds valid', async () => {
    const res = await fetch(`${shared.base}/api/v1/openapi.json`);
    assert.equal(res.status, 200);
    const served = (await res.json()) as { openapi: string };
    assert.equal(served.openapi, '3.1.0');
    await SwaggerParser.validate(structuredClone(served) as never);
  });

  it('gives one user with the balance as a decimal string in major units', async () => {
    const a = await call('get', '/users/{username}', '/users/alice', { token: tokens.read });
    assert.equal(a.status, 200);
    assert.deepEqual(
      { username: a.body.username, fullName: a.body.fullName, balance: a.body.balance, department: a.body.department },
      { username: 'alice', fullName: 'Alice Ames', balance: '10.00', department: 'Physics' },
    );
  });

  it('answers an unknown user with a not-found problem', async () => {
    const a = await call('get', '/users/{username}', '/users/nobody', { token: tokens.read });
    assert.equal(a.status, 404);
    assert.match(a.type, /^application\/problem\+json/);
    assert.deepEqual(a.body, {
      type: 'https://quotient.example/problems/not-found',
      title: 'Not found',
      status: 404,
      detail: 'user not found: nobody',
      code: 'NOT_FOUND',
    });
  });

  it('pages users by cursor, searches, and refuses a limit over 200', async () => {
    const first = await call('get', '/users', '/users?limit=2', { token: tokens.read });
    const names = (a: Answer): unknown[] => (a.body.users as { username: string }[]).map((u) => u.username);
    // The first administrator is a user too.
    assert.deepEqual(names(first), ['admin', 'alice']);
    assert.equal(typeof first.body.next, 'string');
    const second = await call('get', '/users', `/users?limit=2&cursor=${first.body.next as string}`, { token: tokens.read });
    assert.deepEqual(names(second), ['bob', 'carol']);
    assert.equal(second.body.next, null);
    assert.deepEqual(
      (second.body.users as { balance: string }[]).map((u) => u.balance),
      ['2.50', '0.00'],
    );

    const physics = await call('get', '/users', '/users?q=physics', { token: tokens.read });
    assert.deepEqual(names(physics), ['alice', 'carol']);

    const tooMany = await call('get', '/users', '/users?limit=201', { token: tokens.read });
    assert.equal(tooMany.status, 400);
    assert.deepEqual(tooMany.body.errors, [{ field: 'limit', detail: 'limit must be a whole number from 1 to 200' }]);
    const forged = await call('get', '/users', '/users?cursor=bob', { token: tokens.read });
    assert.equal(forged.status, 400);
    assert.equal((forged.body.errors as { field: string }[])[0]!.field, 'cursor');
  });

  it('adjusts a balance once, with one ledger row and one audit row naming the API client', async () => {
    const a = await adjust('alice', { amount: '1.50', comment: 'card payment 77' }, 'pay-77');
    assert.equal(a.status, 201);
    assert.deepEqual(
      { username: a.body.username, amount: a.body.amount, balanceAfter: a.body.balanceAfter, comment: a.body.comment },
      {
        username: 'alice',
        amount: '1.50',
        balanceAfter: '11.50',
        comment: 'card payment 77',
      },
    );
    const knex = shared.primary.services.db.knex;
    const ledger = (await knex('ledger').where({ type: 'adjustment' }).select('amount', 'balance_after', 'actor', 'comment')) as Record<string, unknown>[];
    assert.deepEqual(
      ledger.map((r) => [Number(r.amount), Number(r.balance_after), r.actor, r.comment]),
      [[150, 1150, 'api:portal-balances-write', 'card payment 77']],
    );
    const audit = (await knex('audit_log').where({ action: 'balance.adjust' }).select('actor', 'target_type', 'target_id')) as Record<string, unknown>[];
    assert.deepEqual(audit, [{ actor: 'api:portal-balances-write', target_type: 'user', target_id: 'alice' }]);
    const after = await call('get', '/users/{username}', '/users/alice', { token: tokens.both });
    assert.equal(after.body.balance, '11.50');
  });

  it('answers a retry with the same Idempotency-Key as the first time and moves nothing; a different body is 409', async () => {
    const first = await adjust('bob', { amount: '-0.75', comment: 'refund reversal' }, 'k-1');
    const retry = await adjust('bob', { amount: '-0.75', comment: 'refund reversal' }, 'k-1');
    assert.equal(retry.status, 201);
    assert.deepEqual(retry.body, first.body);
    assert.equal(retry.headers.get('idempotent-replayed'), 'true');
    const knex = shared.primary.services.db.knex;
    assert.equal((await knex('ledger').where({ type: 'adjustment' })).length, 1);
    assert.equal((await knex('audit_log').where({ action: 'balance.adjust' })).length, 1);
    const account = (await shared.primary.services.users.detail((await shared.primary.services.users.getByUsername('bob')).id)).account;
    assert.equal(account.balance, 175);

    const different = await adjust('bob', { amount: '-0.80', comment: 'refund reversal' }, 'k-1');
    assert.equal(different.status, 409);
    assert.equal(different.body.type, 'https://quotient.example/problems/idempotency-conflict');
    const otherComment = await adjust('bob', { amount: '-0.75', comment: 'something else' }, 'k-1');
    assert.equal(otherComment.status, 409);
    assert.equal((await knex('ledger').where({ type: 'adjustment' })).length, 1);
  });

  it('moves the money once when 20 requests with the same Idempotency-Key arrive at the same moment', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => adjust('carol', { amount: '2.00', comment: 'portal top-up 9' }, 'same-moment')));
    assert.deepEqual(
      answers.map((a) => a.status),
      Array.from({ length: 20 }, () => 201),
    );
    assert.equal(answers.filter((a) => a.headers.get('idempotent-replayed') === 'true').length, 19);
    for (const a of answers) assert.deepEqual(a.body, answers[0]?.body);
    const knex = shared.primary.services.db.knex;
    assert.equal((await knex('ledger').where({ type: 'adjustment' })).length, 1);
    assert.equal((await knex('audit_log').where({ action: 'balance.adjust' })).length, 1);
    const carol = await shared.primary.services.users.getByUsername('carol');
    assert.equal((await shared.primary.services.users.detail(carol.id)).account.balance, 200);
  });

  it('refuses an adjustment without an Idempotency-Key, with too many decimals or with an unknown field, moving nothing', async () => {
    const missing = await adjust('alice', { amount: '1.00', comment: 'x' });
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.body.errors, [{ field: 'Idempotency-Key', detail: 'Idempotency-Key header is required for a request that moves money' }]);
    const decimals = await adjust('alice', { amount: '1.505', comment: 'x' }, 'd-1');
    assert.equal(decimals.status, 400);
    assert.deepEqual(decimals.body, {
      type: 'https://quotient.example/problems/validation',
      title: 'The request has invalid fields',
      status: 400,
      detail: 'amount has more than 2 decimal places: 1.505',
      code: 'VALIDATION',
      errors: [{ field: 'amount', detail: 'amount has more than 2 decimal places: 1.505' }],
    });
    const extra = await adjust('alice', { amount: '1.00', comment: 'x', currency: 'EUR' }, 'd-2');
    assert.equal(extra.status, 400);
    assert.equal((extra.body.errors as { field: string }[])[0]!.field, 'currency');
    const nobody = await adjust('nobody', { amount: '1.00', comment: 'x' }, 'd-3');
    assert.equal(nobody.status, 404);
    assert.equal((await shared.primary.services.db.knex('ledger').where({ type: 'adjustment' })).length, 0);
  });

  it('lets each scope through to its routes only', async () => {
    const readCannotAdjust = await adjust('alice', { amount: '1.00', comment: 'x' }, 's-1', tokens.read);
    assert.equal(readCannotAdjust.status, 403);
    assert.equal(readCannotAdjust.body.error, 'insufficient_scope');
    const writeCannotRead = await call('get', '/users', '/users', { token: tokens.write });
    assert.equal(writeCannotRead.status, 403);
    const noToken = await call('get', '/users/{username}', '/users/alice', { token: 'not-a-token' });
    assert.equal(noToken.status, 401);
    assert.equal((await shared.primary.services.db.knex('ledger').where({ type: 'adjustment' })).length, 0);
  });

  it('exercised every operation of the document with its success answer', () => {
    for (const [path, ops] of Object.entries(OPENAPI_DOCUMENT.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const success = Object.keys(op.responses).find((s) => s.startsWith('2'))!;
        assert.ok(contract.checked.has(`${method} ${path} ${success}`), `${method} ${path} ${success} was never checked`);
      }
    }
  });
});
