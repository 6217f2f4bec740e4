/**
 * The core schema: users and cards, groups and memberships, accounts (personal and shared),
 * the ledger, reservations, rate cards, printers, print jobs, settings and the audit log.
 * Times are epoch milliseconds (UTC) in BIGINT columns on both dialects; amounts are BIGINT
 * minor units. Immutable once released: change the schema in a new migration.
 */
import type { Knex } from 'knex';
import { createTable } from '../schema';

export async function up(knex: Knex): Promise<void> {
  await createTable(knex, 'users', (t) => {
    t.increments('id');
    t.string('username', 128).notNullable().unique();
    t.string('full_name', 255).notNullable().defaultTo('');
    t.string('email', 255).notNullable().defaultTo('');
    t.string('department', 255).notNullable().defaultTo('');
    t.string('office', 255).notNullable().defaultTo('');
    t.string('source', 16).notNullable().defaultTo('local');
    t.boolean('disabled').notNullable().defaultTo(false);
    t.boolean('is_admin').notNullable().defaultTo(false);
    t.string('password_hash', 255).nullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    t.index(['department']);
  });

  await createTable(knex, 'user_cards', (t) => {
    t.increments('id');
    t.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE');
    t.string('number', 128).notNullable().unique();
    t.bigInteger('created_at').notNullable();
    t.index(['user_id']);
  });

  await createTable(knex, 'groups', (t) => {
    t.increments('id');
    t.string('name', 128).notNullable().unique();
    t.string('description', 1000).notNullable().defaultTo('');
    // New-user rules (what a new member of the group starts with); null means "the site default".
    t.bigInteger('initial_credit').notNullable().defaultTo(0);
    t.boolean('initial_restricted').nullable();
    t.bigInteger('initial_credit_limit').nullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
  });

  await createTable(knex, 'group_members', (t) => {
    t.integer('group_id').unsigned().notNullable().references('groups.id').onDelete('CASCADE');
    t.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE');
    t.bigInteger('created_at').notNullable();
    t.primary(['group_id', 'user_id']);
    t.index(['user_id']);
  });

  await createTable(knex, 'accounts', (t) => {
    t.increments('id');
    t.string('type', 16).notNullable(); // personal | shared
    t.integer('user_id').unsigned().nullable().unique().references('users.id').onDelete('RESTRICT');
    t.string('name', 255).notNullable();
    t.string('code', 64).nullable().unique();
    t.string('pin', 64).nullable();
    t.integer('parent_id').unsigned().nullable().references('accounts.id').onDelete('RESTRICT');
    t.bigInteger('balance').notNullable().defaultTo(0);
    t.bigInteger('reserved').notNullable().defaultTo(0);
    t.boolean('restricted').notNullable().defaultTo(true);
    t.bigInteger('credit_limit').nullable(); // overdraft; null = site default
    t.integer('cost_multiplier_bp').notNullable().defaultTo(10000);
    t.boolean('enabled').notNullable().defaultTo(true);
    t.boolean('archived').notNullable().defaultTo(false);
    t.string('allocation_model', 16).notNullable().defaultTo('balance'); // balance | per_user
    t.bigInteger('starts_at').nullable();
    t.bigInteger('expires_at').nullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    t.unique(['type', 'name']);
  });

  await createTable(knex, 'ledger', (t) => {
    t.bigIncrements('id');
    t.integer('account_id').unsigned().notNullable().references('accounts.id').onDelete('RESTRICT');
    t.bigInteger('amount').notNullable();
    t.bigInteger('balance_after').notNullable();
    t.string('type', 16).notNullable();
    t.string('reference', 255).nullable();
    t.string('actor', 128).nullable();
    t.string('comment', 1000).notNullable().defaultTo('');
    t.string('idempotency_key', 191).notNullable().unique();
    t.bigInteger('created_at').notNullable();
    t.index(['account_id', 'id']);
    t.index(['created_at']);
  });

  await createTable(knex, 'reservations', (t) => {
    t.bigIncrements('id');
    t.integer('account_id').unsigned().notNullable().references('accounts.id').onDelete('RESTRICT');
    t.bigInteger('amount').notNullable();
    t.string('state', 16).notNullable(); // held | committed | released
    t.string('type', 16).notNullable();
    t.string('reference', 255).nullable();
    t.string('actor', 128).nullable();
    t.string('comment', 1000).notNullable().defaultTo('');
    t.string('idempotency_key', 191).notNullable().unique();
    t.bigInteger('ledger_id').unsigned().nullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('settled_at').nullable();
    t.index(['account_id', 'state']);
  });

  await createTable(knex, 'rate_cards', (t) => {
    t.increments('id');
    t.string('name', 128).notNullable().unique();
    t.bigInteger('per_job_fee').notNullable().defaultTo(0);
    t.integer('duplex_discount_bp').notNullable().defaultTo(0);
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
  });

  await createTable(knex, 'rate_card_prices', (t) => {
    t.increments('id');
    t.integer('rate_card_id').unsigned().notNullable().references('rate_cards.id').onDelete('CASCADE');
    t.string('paper_size', 64).notNullable(); // '*' is the default row
    t.string('colour', 8).notNullable(); // grey | colour
    t.string('sides', 8).notNullable(); // simplex | duplex
    t.bigInteger('price_per_page').notNullable();
    t.unique(['rate_card_id', 'paper_size', 'colour', 'sides']);
  });

  await createTable(knex, 'rate_card_finishings', (t) => {
    t.increments('id');
    t.integer('rate_card_id').unsigned().notNullable().references('rate_cards.id').onDelete('CASCADE');
    t.string('option', 32).notNullable();
    t.string('per', 8).notNullable(); // job | sheet
    t.bigInteger('price').notNullable();
    t.unique(['rate_card_id', 'option']);
  });

  await createTable(knex, 'printers', (t) => {
    t.increments('id');
    t.string('server_name', 191).notNullable();
    t.string('queue_name', 191).notNullable();
    t.string('display_name', 255).notNullable().defaultTo('');
    t.string('location', 255).notNullable().defaultTo('');
    t.boolean('enabled').notNullable().defaultTo(true);
    t.integer('rate_card_id').unsigned().nullable().references('rate_cards.id').onDelete('SET NULL');
    t.string('failure_mode', 16).notNullable().defaultTo('charge_later'); // charge_later | hold | deny | free
    t.boolean('charging_enabled').notNullable().defaultTo(true);
    t.text('filters').notNullable(); // JSON: max pages/copies/cost, colour/duplex only, sizes, name patterns, duplicate window
    t.bigInteger('last_seen_at').nullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    t.unique(['server_name', 'queue_name']);
  });

  await createTable(knex, 'print_jobs', (t) => {
    t.bigIncrements('id');
    t.string('job_uuid', 191).notNullable().unique();
    t.integer('printer_id').unsigned().notNullable().references('printers.id').onDelete('RESTRICT');
    t.integer('user_id').unsigned().nullable().references('users.id').onDelete('SET NULL');
    t.integer('account_id').unsigned().nullable().references('accounts.id').onDelete('SET NULL');
    t.string('username', 128).notNullable();
    t.string('document_name', 1024).notNullable().defaultTo('');
    t.integer('pages').notNullable();
    t.integer('colour_pages').notNullable().defaultTo(0);
    t.integer('copies').notNullable().defaultTo(1);
    t.boolean('duplex').notNullable().defaultTo(false);
    t.string('paper_size', 64).notNullable().defaultTo('');
    t.bigInteger('cost').notNullable().defaultTo(0);
    t.string('status', 16).notNullable(); // authorised | printed | cancelled | denied
    t.string('reason', 512).notNullable().defaultTo('');
    t.bigInteger('reservation_id').unsigned().nullable();
    t.bigInteger('ledger_id').unsigned().nullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('settled_at').nullable();
    t.index(['user_id', 'created_at']);
    t.index(['printer_id', 'created_at']);
  });

  await createTable(knex, 'settings', (t) => {
    t.string('key', 128).primary();
    t.text('value').notNullable();
    t.bigInteger('updated_at').notNullable();
  });

  await createTable(knex, 'audit_log', (t) => {
    t.bigIncrements('id');
    t.bigInteger('at').notNullable();
    t.string('actor', 128).notNullable();
    t.string('action', 64).notNullable();
    t.string('target_type', 32).notNullable().defaultTo('');
    t.string('target_id', 191).notNullable().defaultTo('');
    t.text('details').notNullable();
    t.index(['at']);
    t.index(['target_type', 'target_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'audit_log',
    'settings',
    'print_jobs',
    'printers',
    'rate_card_finishings',
    'rate_card_prices',
    'rate_cards',
    'reservations',
    'ledger',
    'accounts',
    'group_members',
    'groups',
    'user_cards',
    'users',
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}
