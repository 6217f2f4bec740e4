/**
 * A version number on each rate card, raised by every save, so an edit form opened before
 * someone else's change is refused instead of silently undoing it (primary/pricing/rate-card-store.ts).
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('rate_cards', (t) => {
    t.integer('version').notNullable().defaultTo(1);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('rate_cards', (t) => {
    t.dropColumn('version');
  });
}
