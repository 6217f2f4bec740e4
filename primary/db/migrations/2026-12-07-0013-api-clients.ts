/**
 * API clients and their bearer tokens (OAuth 2 client credentials, docs/api.md#api-clients).
 *
 * - `api_clients`: a name people use (unique), the public `client_id`, the secret as a scrypt
 *   hash only, its scopes (space-separated, as OAuth writes them), who created it and when, and
 *   when it was revoked (null while it works).
 * - `api_tokens`: each issued access token as a SHA-256 of the token (the token itself is never
 *   stored), its client, the scopes it carries and when it expires. Tokens are stored rather than
 *   signed and stateless so that revoking or rotating a client ends its tokens at once by deleting
 *   rows, with no signing key to keep, share between primaries or rotate; the lookup is one
 *   primary-key read a request, which an API call pays anyway.
 */
import type { Knex } from 'knex';
import { createTable } from '../schema';

export async function up(knex: Knex): Promise<void> {
  await createTable(knex, 'api_clients', (t) => {
    t.increments('id');
    t.string('name', 128).notNullable().unique();
    t.string('client_id', 64).notNullable().unique();
    t.string('secret_hash', 255).notNullable();
    t.string('scopes', 1000).notNullable();
    t.string('created_by', 128).notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('revoked_at').nullable();
  });

  await createTable(knex, 'api_tokens', (t) => {
    t.string('token_hash', 64).primary(); // hex SHA-256 of the token
    t.integer('client_id').unsigned().notNullable().references('api_clients.id').onDelete('CASCADE');
    t.string('scopes', 1000).notNullable();
    t.bigInteger('issued_at').notNullable();
    t.bigInteger('expires_at').notNullable();
    t.index(['client_id', 'expires_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('api_tokens');
  await knex.schema.dropTableIfExists('api_clients');
}
