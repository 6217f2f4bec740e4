/**
 * Top-up cards (primary/cards/): batches an administrator generates or imports, each card's
 * number and whether it has been redeemed (by whom, when, and the ledger row that credited it),
 * and the failed redemptions counted per user and per client address for throttling.
 */
import type { Knex } from 'knex';
import { createTable } from '../schema';

export async function up(knex: Knex): Promise<void> {
  await createTable(knex, 'topup_card_batches', (t) => {
    t.increments('id');
    t.string('name', 128).notNullable().unique();
    t.bigInteger('value').notNullable(); // minor units, credited by each card
    t.string('expires_on', 10).notNullable(); // YYYY-MM-DD: valid through that day in the primary's time zone
    t.boolean('disabled').notNullable().defaultTo(false);
    t.string('notes', 1000).notNullable().defaultTo('');
    t.string('created_by', 128).notNullable();
    t.bigInteger('created_at').notNullable();
  });

  await createTable(knex, 'topup_cards', (t) => {
    t.increments('id');
    t.string('number', 64).notNullable().unique(); // digits and capital letters only, as normalised
    t.integer('batch_id').unsigned().notNullable().references('topup_card_batches.id').onDelete('CASCADE');
    t.string('state', 16).notNullable(); // unused | redeemed
    t.integer('redeemed_by').unsigned().nullable().references('users.id').onDelete('SET NULL');
    t.bigInteger('redeemed_at').nullable();
    t.bigInteger('ledger_id').unsigned().nullable();
    t.index(['batch_id', 'state']);
  });

  await createTable(knex, 'topup_card_failures', (t) => {
    t.string('throttle_key', 191).primary(); // 'user:<id>' or 'ip:<address>'
    t.integer('failures').notNullable(); // in the window that began at window_start
    t.bigInteger('window_start').notNullable();
    t.integer('lockouts').notNullable().defaultTo(0);
    t.bigInteger('locked_until').notNullable().defaultTo(0);
    t.bigInteger('updated_at').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['topup_card_failures', 'topup_cards', 'topup_card_batches']) {
    await knex.schema.dropTableIfExists(table);
  }
}
