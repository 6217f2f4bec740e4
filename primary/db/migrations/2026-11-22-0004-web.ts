/**
 * The web tools' tables: server-side sessions (only a SHA-256 of the session id is stored),
 * sign-in failures for throttling (per username and per client address, shared by every primary
 * on the database), and users' refund requests for print jobs.
 */
import type { Knex } from 'knex';
import { createTable } from '../schema';

export async function up(knex: Knex): Promise<void> {
  await createTable(knex, 'web_sessions', (t) => {
    t.string('id_hash', 64).primary(); // hex SHA-256 of the cookie value
    t.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE');
    t.string('csrf_secret', 64).notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('last_seen_at').notNullable();
    t.bigInteger('expires_at').notNullable();
    t.index(['user_id']);
    t.index(['expires_at']);
  });

  await createTable(knex, 'web_signin_failures', (t) => {
    t.string('throttle_key', 191).primary(); // 'user:<username>' or 'ip:<address>'
    t.integer('failures').notNullable();
    t.bigInteger('locked_until').notNullable().defaultTo(0);
    t.bigInteger('updated_at').notNullable();
  });

  await createTable(knex, 'refund_requests', (t) => {
    t.increments('id');
    t.bigInteger('print_job_id').unsigned().notNullable().unique().references('print_jobs.id').onDelete('CASCADE');
    t.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE');
    t.string('reason', 1000).notNullable().defaultTo('');
    t.string('state', 16).notNullable(); // pending | approved | rejected
    t.bigInteger('amount').notNullable();
    t.string('decided_by', 128).nullable();
    t.string('decision_comment', 1000).notNullable().defaultTo('');
    t.bigInteger('ledger_id').unsigned().nullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('decided_at').nullable();
    t.index(['state', 'id']);
    t.index(['user_id', 'id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['refund_requests', 'web_signin_failures', 'web_sessions']) {
    await knex.schema.dropTableIfExists(table);
  }
}
