/**
 * The cluster: secondaries and what they last reported; print-job columns needed to reprice a
 * job at commit exactly as it was priced at authorisation; each printer's real device URI.
 */
import type { Knex } from 'knex';
import { createTable } from '../schema';

export async function up(knex: Knex): Promise<void> {
  await createTable(knex, 'secondaries', (t) => {
    t.increments('id');
    t.string('name', 128).notNullable().unique();
    t.string('role', 16).notNullable(); // print | proxy
    t.string('version', 32).notNullable().defaultTo('');
    t.string('host', 255).notNullable().defaultTo('');
    t.string('address', 255).notNullable().defaultTo('');
    t.integer('outbox_depth').notNullable().defaultTo(0);
    t.bigInteger('oldest_pending_at').nullable();
    t.bigInteger('registered_at').notNullable();
    t.bigInteger('last_seen_at').notNullable();
  });

  await knex.schema.alterTable('print_jobs', (t) => {
    t.string('secondary', 128).notNullable().defaultTo('');
    t.string('finishings', 255).notNullable().defaultTo('');
    t.string('client_host', 255).notNullable().defaultTo('');
    t.boolean('charged').notNullable().defaultTo(true);
    t.integer('rate_card_id').unsigned().nullable();
    t.integer('multiplier_bp').notNullable().defaultTo(10000);
    t.integer('printed_pages').nullable();
    t.index(['account_id']);
  });

  // Foreign keys whose child column had no index: SQLite scans the child table to check them.
  await knex.schema.alterTable('accounts', (t) => t.index(['parent_id']));

  await knex.schema.alterTable('printers', (t) => {
    t.string('device_uri', 1024).notNullable().defaultTo('');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('accounts', (t) => t.dropIndex(['parent_id']));
  await knex.schema.alterTable('printers', (t) => t.dropColumn('device_uri'));
  await knex.schema.alterTable('print_jobs', (t) => {
    t.dropIndex(['account_id']);
    for (const c of ['secondary', 'finishings', 'client_host', 'charged', 'rate_card_id', 'multiplier_bp', 'printed_pages']) t.dropColumn(c);
  });
  await knex.schema.dropTableIfExists('secondaries');
}
