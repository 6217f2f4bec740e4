/**
 * Per printer: what happens to a job whose pages nothing can count (the page analysis and
 * Ghostscript both failed): `hold` (held in CUPS for an administrator, not charged) or
 * `charge-maximum` (charged as the printer's max-pages filter). Existing printers get `hold`,
 * the default: docs/page-analysis.md, "When nothing can count the pages".
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('printers', (t) => {
    t.string('unknown_page_count', 16).notNullable().defaultTo('hold'); // hold | charge-maximum
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('printers', (t) => {
    t.dropColumn('unknown_page_count');
  });
}
