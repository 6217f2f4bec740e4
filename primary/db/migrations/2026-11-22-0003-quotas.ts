/**
 * Quota schedules and their runs. A run row is unique per (schedule, period start), so
 * a period can be started only once; the row carries the lease (owner, expiry) that lets exactly
 * one primary work on it, and the progress cursor that lets a crashed run resume.
 */
import type { Knex } from 'knex';
import { createTable } from '../schema';

export async function up(knex: Knex): Promise<void> {
  await createTable(knex, 'quota_schedules', (t) => {
    t.increments('id');
    t.string('name', 128).notNullable().unique();
    t.integer('group_id').unsigned().nullable().references('groups.id').onDelete('CASCADE'); // null: all users
    t.string('period', 16).notNullable(); // daily | weekly | monthly | cron
    t.integer('weekday').nullable(); // weekly: 0 = Sunday .. 6
    t.integer('day_of_month').nullable(); // monthly: 1..31 (past the month's end: its last day)
    t.string('at_time', 5).notNullable().defaultTo('00:00'); // HH:MM, local time
    t.string('cron', 255).nullable(); // period = cron
    t.string('mode', 8).notNullable(); // add | reset
    t.bigInteger('amount').notNullable();
    t.bigInteger('cap').nullable(); // add mode: accumulate only up to
    t.boolean('enabled').notNullable().defaultTo(true);
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
  });

  await createTable(knex, 'quota_runs', (t) => {
    t.bigIncrements('id');
    t.integer('schedule_id').unsigned().notNullable().references('quota_schedules.id').onDelete('CASCADE');
    t.bigInteger('period_start').notNullable();
    t.string('state', 16).notNullable(); // pending | running | done | skipped
    t.string('lease_owner', 128).nullable();
    t.bigInteger('lease_expires_at').nullable();
    t.integer('cursor_user_id').notNullable().defaultTo(0); // last user id done (users are done in id order)
    t.integer('chunks').notNullable().defaultTo(0);
    t.integer('users').notNullable().defaultTo(0);
    t.bigInteger('total').notNullable().defaultTo(0);
    t.string('reason', 16).notNullable().defaultTo('schedule'); // schedule | catch-up | manual
    t.bigInteger('created_at').notNullable();
    t.bigInteger('started_at').nullable();
    t.bigInteger('finished_at').nullable();
    t.unique(['schedule_id', 'period_start']);
    t.index(['state']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('quota_runs');
  await knex.schema.dropTableIfExists('quota_schedules');
}
