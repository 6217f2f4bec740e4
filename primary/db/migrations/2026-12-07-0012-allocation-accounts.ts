/**
 * Per-user allocation accounts and quota schedules for shared accounts (docs/accounts.md).
 *
 * - An allocation account is a shared account with `allocation_model = 'per_user'` and a limit
 *   type in `allocation_limit` (unlimited | soft | hard; null on every other account).
 * - Each (account, user) pair is an `accounts` row of its own: type `allocation`, `parent_id` the
 *   allocation account, `member_user_id` the user (unique together), so its balance is an
 *   ordinary ledger balance; `user_id` stays the unique owner of a personal account.
 * - `quota_schedules.account_id`: a schedule that pays a shared account (a balance account
 *   itself, or each pair of an allocation account) instead of users' personal accounts.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('accounts', (t) => {
    t.integer('member_user_id').unsigned().nullable().references('users.id').onDelete('RESTRICT');
    t.string('allocation_limit', 16).nullable();
    t.unique(['parent_id', 'member_user_id']);
  });
  await knex.schema.alterTable('quota_schedules', (t) => {
    t.integer('account_id').unsigned().nullable().references('accounts.id').onDelete('CASCADE');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('quota_schedules', (t) => {
    t.dropForeign(['account_id']);
    t.dropColumn('account_id');
  });
  await knex.schema.alterTable('accounts', (t) => {
    t.dropUnique(['parent_id', 'member_user_id']);
    t.dropForeign(['member_user_id']);
    t.dropColumn('member_user_id');
    t.dropColumn('allocation_limit');
  });
}
