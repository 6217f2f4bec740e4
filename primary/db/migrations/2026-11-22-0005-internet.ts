/**
 * Internet charging: the usage a proxy secondary reported, kept per report, user and
 * domain for reports; each report's answer, so a repeated report id gets the first answer; and
 * each user's rounding carry, so per-interval rounding never drifts (primary/internet/).
 */
import type { Knex } from 'knex';
import { createTable } from '../schema';

export async function up(knex: Knex): Promise<void> {
  await createTable(knex, 'internet_reports', (t) => {
    t.increments('id');
    t.string('report_id', 191).notNullable().unique();
    t.string('secondary', 128).notNullable();
    t.bigInteger('interval_start').notNullable();
    t.bigInteger('interval_end').notNullable();
    t.bigInteger('charged').notNullable();
    t.text('blocked_users').notNullable(); // JSON array of usernames
    t.bigInteger('created_at').notNullable();
  });

  await createTable(knex, 'internet_usage', (t) => {
    t.bigIncrements('id');
    t.integer('report_id').unsigned().notNullable().references('id').inTable('internet_reports');
    t.integer('user_id').unsigned().nullable().references('id').inTable('users');
    t.string('username', 128).notNullable();
    t.string('domain', 255).notNullable();
    t.bigInteger('bytes_in').notNullable();
    t.bigInteger('bytes_out').notNullable();
    t.bigInteger('cache_hit_bytes').notNullable();
    t.integer('requests').notNullable();
    t.bigInteger('charged_bytes').notNullable();
    t.bigInteger('first_seen').notNullable();
    t.bigInteger('last_seen').notNullable();
    t.index(['report_id']);
    t.index(['user_id', 'first_seen']);
  });

  await createTable(knex, 'internet_carry', (t) => {
    t.integer('user_id').unsigned().primary().references('id').inTable('users');
    // Exact remainder of the per-byte charge not yet billed, in (price scale x minor units).
    t.bigInteger('carry').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('internet_carry');
  await knex.schema.dropTableIfExists('internet_usage');
  await knex.schema.dropTableIfExists('internet_reports');
}
