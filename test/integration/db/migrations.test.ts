/**
 * Migrations that change tables already holding data: the rows survive, and new columns get the
 * value an existing row must have (run down and up again on a migrated database, on each dialect).
 */
import assert from 'node:assert/strict';
import { MIGRATIONS } from '../../../primary/db/migrate';
import { describeOnEachDatabase } from '../../utils/databases';

const migration = (name: string): (typeof MIGRATIONS)[number][1] => {
  const found = MIGRATIONS.find(([n]) => n === name);
  if (!found) throw new Error(`no migration ${name}`);
  return found[1];
};

describeOnEachDatabase('migrations on a database with data', (t) => {
  it('2026-12-02-0006 gives the rate cards already there version 1 and keeps their prices', async () => {
    const k = t.db.knex;
    const rateCardVersion = migration('2026-12-02-0006-rate-card-version');
    await rateCardVersion.down(k);
    try {
      // A card as a primary from before the migration holds it.
      const [id] = await k('rate_cards').insert({ name: 'Library', per_job_fee: 5, duplex_discount_bp: 0, created_at: 1, updated_at: 1 });
      await k('rate_card_prices').insert({ rate_card_id: id, paper_size: '*', colour: 'grey', sides: 'simplex', price_per_page: 10 });
    } finally {
      await rateCardVersion.up(k);
    }
    const card = (await k('rate_cards').where({ name: 'Library' }).first('version', 'per_job_fee')) as { version: number; per_job_fee: number | string };
    assert.deepEqual([Number(card.version), Number(card.per_job_fee)], [1, 5]);
    assert.equal(Number(((await k('rate_card_prices').count({ n: '*' })) as { n: number | string }[])[0]?.n), 1);
  });
});
