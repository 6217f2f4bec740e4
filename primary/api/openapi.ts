/**
 * The REST API's contract, OpenAPI 3.1, served at `/api/v1/openapi.json`. The tests validate this
 * document and check every route's real answers against its schemas
 * (test/integration/api/rest.test.ts), so it cannot drift from the code.
 */
import { PROBLEM_BASE } from './problems';

const decimal = { type: 'string', pattern: '^-?\\d+(\\.\\d+)?$', description: 'An amount in major units, exactly (e.g. "12.50")' } as const;
const problem = (description: string): object => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});
const bearerError = (description: string): object => ({
  description: `${description} (RFC 6750: see the WWW-Authenticate header)`,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/BearerError' } } },
});
/** What the list and the single user both show. */
const userSummary = {
  username: { type: 'string' },
  fullName: { type: 'string' },
  email: { type: 'string' },
  department: { type: 'string' },
  disabled: { type: 'boolean' },
  restricted: { type: 'boolean' },
  balance: decimal,
} as const;
const username = { name: 'username', in: 'path', required: true, schema: { type: 'string', minLength: 1 } } as const;

export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: { title: 'Quotient REST API', version: '1.0.0', description: 'See docs/api.md. Amounts are decimal strings in major units.' },
  servers: [{ url: '/api/v1' }],
  security: [{ clientCredentials: [] }],
  paths: {
    '/users': {
      get: {
        operationId: 'listUsers',
        summary: 'Users with their balances, by username, a page at a time',
        security: [{ clientCredentials: ['users:read'] }],
        parameters: [
          { name: 'q', in: 'query', schema: { type: 'string', maxLength: 200 }, description: 'Matches username, full name, email and department' },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 } },
          { name: 'cursor', in: 'query', schema: { type: 'string' }, description: 'The `next` of the page before' },
        ],
        responses: {
          '200': {
            description: 'One page; `next` is null on the last',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['users', 'next'],
                  properties: { users: { type: 'array', items: { $ref: '#/components/schemas/UserSummary' } }, next: { type: ['string', 'null'] } },
                },
              },
            },
          },
          '400': problem('A bad limit, cursor or q'),
          '401': bearerError('No valid token'),
          '403': bearerError('The token lacks users:read'),
        },
      },
    },
    '/users/{username}': {
      get: {
        operationId: 'getUser',
        summary: 'One user with their balance',
        security: [{ clientCredentials: ['users:read'] }],
        parameters: [username],
        responses: {
          '200': { description: 'The user', content: { 'application/json': { schema: { $ref: '#/components/schemas/User' } } } },
          '401': bearerError('No valid token'),
          '403': bearerError('The token lacks users:read'),
          '404': problem('No such user'),
        },
      },
    },
    '/users/{username}/adjustments': {
      post: {
        operationId: 'adjustBalance',
        summary: "Adds a signed amount to the user's balance, audited with the API client as the actor",
        security: [{ clientCredentials: ['balances:write'] }],
        parameters: [
          username,
          {
            name: 'Idempotency-Key',
            in: 'header',
            required: true,
            schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,100}$' },
            description: 'A retry with the same key answers as the first time and moves nothing',
          },
        ],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                additionalProperties: false,
                required: ['amount', 'comment'],
                properties: { amount: decimal, comment: { type: 'string', minLength: 1, maxLength: 1000 } },
              },
            },
          },
        },
        responses: {
          '201': {
            description: 'The ledger row written (or, on a retry, the one written the first time)',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Adjustment' } } },
          },
          '400': problem('No Idempotency-Key, a bad amount or comment, or an unknown field'),
          '401': bearerError('No valid token'),
          '403': bearerError('The token lacks balances:write'),
          '404': problem('No such user'),
          '409': problem('The Idempotency-Key was used with a different body'),
        },
      },
    },
  },
  components: {
    securitySchemes: {
      clientCredentials: {
        type: 'oauth2',
        flows: {
          clientCredentials: {
            tokenUrl: '/oauth/token',
            scopes: { 'users:read': 'Read users and their balances', 'balances:write': 'Adjust balances' },
          },
        },
      },
    },
    schemas: {
      UserSummary: { type: 'object', additionalProperties: false, required: Object.keys(userSummary), properties: userSummary },
      User: {
        type: 'object',
        additionalProperties: false,
        required: ['username', 'fullName', 'email', 'department', 'office', 'disabled', 'restricted', 'balance', 'creditLimit', 'groups', 'createdAt'],
        properties: {
          ...userSummary,
          office: { type: 'string' },
          creditLimit: decimal,
          groups: { type: 'array', items: { type: 'string' } },
          createdAt: { type: 'string', format: 'date-time' },
        },
      },
      Adjustment: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'username', 'amount', 'balanceAfter', 'comment', 'createdAt'],
        properties: {
          id: { type: 'integer', description: 'The ledger row' },
          username: { type: 'string' },
          amount: decimal,
          balanceAfter: decimal,
          comment: { type: 'string' },
          createdAt: { type: 'string', format: 'date-time' },
        },
      },
      Problem: {
        type: 'object',
        description: `RFC 9457 problem details; type is ${PROBLEM_BASE}<slug>, one per code`,
        additionalProperties: false,
        required: ['type', 'title', 'status', 'detail', 'code'],
        properties: {
          type: { type: 'string', format: 'uri' },
          title: { type: 'string' },
          status: { type: 'integer' },
          detail: { type: 'string' },
          code: { type: 'string' },
          errors: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['field', 'detail'],
              properties: { field: { type: 'string' }, detail: { type: 'string' } },
            },
          },
        },
      },
      BearerError: {
        type: 'object',
        additionalProperties: false,
        required: ['error', 'error_description'],
        properties: { error: { type: 'string' }, error_description: { type: 'string' } },
      },
    },
  },
} as const;
