/**
 * Shared accounts (docs/accounts.md): who may charge them, their notes, their case-insensitive
 * name key, and each user's chosen active account.
 *
 * - `accounts.name_key`: a shared account's full name (`parent\sub`) folded to lower case, unique,
 *   so `Physics` and `PHYSICS` cannot both exist on either dialect (the tables compare bytes);
 *   null for personal accounts. `accounts.everyone`: a global account every user may charge.
 * - `account_users`, `account_groups`: the access lists.
 * - `user_active_accounts`: the account a user chose to charge print jobs to (their personal
 *   account included); no row is the default rule (the alphabetically first shared account the
 *   user may charge, else the personal account).
 *
 * The per-user allocation model (each user with access has an allowance of their own) is not blocked by this: each (account, user) balance
 * will be an `accounts` row of its own (type `allocation`, parent_id = the shared account) with a
 * member column beside `user_id`, which stays the unique owner of a personal account.
 */
import type { Knex } from 'knex';
import { createTable } from '../schema';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('accounts', (t) => {
    t.string('name_key', 255).nullable().unique();
    t.boolean('everyone').notNullable().defaultTo(false);
    t.string('notes', 2000).notNullable().defaultTo('');
  });

  await createTable(knex, 'account_users', (t) => {
    t.integer('account_id').unsigned().notNullable().references('accounts.id').onDelete('CASCADE');
    t.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE');
    t.bigInteger('created_at').notNullable();
    t.primary(['account_id', 'user_id']);
    t.index(['user_id']);
  });

  await createTable(knex, 'account_groups', (t) => {
    t.integer('account_id').unsigned().notNullable().references('accounts.id').onDelete('CASCADE');
    t.integer('group_id').unsigned().notNullable().references('groups.id').onDelete('CASCADE');
    t.bigInteger('created_at').notNullable();
    t.primary(['account_id', 'group_id']);
    t.index(['group_id']);
  });

  await createTable(knex, 'user_active_accounts', (t) => {
    t.integer('user_id').unsigned().notNullable().primary().references('users.id').onDelete('CASCADE');
    t.integer('account_id').unsigned().notNullable().references('accounts.id').onDelete('CASCADE');
    t.bigInteger('chosen_at').notNullable();
    t.index(['account_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('user_active_accounts');
  await knex.schema.dropTable('account_groups');
  await knex.schema.dropTable('account_users');
  await knex.schema.alterTable('accounts', (t) => {
    t.dropUnique(['name_key']);
    t.dropColumn('name_key');
    t.dropColumn('everyone');
    t.dropColumn('notes');
  });
}
