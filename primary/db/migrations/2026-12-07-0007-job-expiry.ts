/**
 * When each print job was authorised, so authorisations that no commit or release follows can be
 * expired (primary/printing/authorisation-expiry.ts): jobs authorised before this migration get
 * the time CUPS received them. And what each secondary last reported of its dead letters (events
 * its primary refused for good), for `quotient secondaries` and the admin pages.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('print_jobs', (t) => {
    t.bigInteger('authorised_at').nullable();
    t.index(['status', 'authorised_at']);
  });
  await knex('print_jobs')
    .where({ status: 'authorised' })
    .update({ authorised_at: knex.ref('created_at') });
  await knex.schema.alterTable('secondaries', (t) => {
    t.integer('dead_letters').notNullable().defaultTo(0);
    t.string('last_dead_letter', 512).notNullable().defaultTo('');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('secondaries', (t) => {
    t.dropColumn('dead_letters');
    t.dropColumn('last_dead_letter');
  });
  await knex.schema.alterTable('print_jobs', (t) => {
    t.dropIndex(['status', 'authorised_at']);
    t.dropColumn('authorised_at');
  });
}
