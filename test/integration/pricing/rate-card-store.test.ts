import assert from 'node:assert/strict';
import { describeOnEachDatabase } from '../../utils/databases';
import { servicesFor } from '../../utils/fixtures';
import { priceJob } from '../../../primary/pricing';

const card = {
  prices: [
    { paperSize: '*', colour: 'grey', sides: 'simplex', pricePerPage: 10 },
    { paperSize: '*', colour: 'colour', sides: 'simplex', pricePerPage: 50 },
    { paperSize: 'iso_a3_297x420mm', colour: 'grey', sides: 'simplex', pricePerPage: 20 },
  ],
  perJobFee: 5,
  duplexDiscountBp: 2000,
  finishings: [{ option: 'staple', per: 'job', price: 15 }],
};

describeOnEachDatabase('RateCardStore', (t) => {
  it('stores a card and loads back the same validated card, pricing jobs identically', async () => {
    const s = servicesFor(t.db);
    const saved = await s.rateCards.save('Library B&W', card, 'admin');
    const loaded = await s.rateCards.getByName('Library B&W');
    assert.equal(loaded.id, saved.id);
    assert.deepEqual(loaded.card.prices.map((p) => p.paperSize).sort(), ['*', '*', 'A3']);
    const job = { pages: 3, colourPages: 1, copies: 2, duplex: true, paperSize: 'A4', finishings: ['staple'] };
    // 2 copies × (2 grey × 10×0.8 + 1 colour × 50×0.8) + staple 15 + fee 5 = 2 × 56 + 20 = 132
    assert.equal(priceJob(loaded.card, job, 10000).total, 132);
    const audit = await t.db.knex('audit_log').where({ action: 'rate_card.create' }).first();
    assert.equal(audit?.target_id, 'Library B&W');
  });

  it('replaces the rows of an existing card as a whole', async () => {
    const s = servicesFor(t.db);
    await s.rateCards.save('Main', card);
    const replaced = await s.rateCards.save('Main', { prices: card.prices.slice(0, 2) });
    assert.equal(replaced.card.prices.length, 2);
    assert.equal(replaced.card.perJobFee, 0);
    assert.deepEqual(replaced.card.finishings, []);
    assert.deepEqual((await s.rateCards.list()).map((c) => c.name), ['Main']);
  });

  it('refuses an invalid card and changes nothing', async () => {
    const s = servicesFor(t.db);
    await assert.rejects(s.rateCards.save('Bad', { prices: [card.prices[0]] }), { code: 'VALIDATION' });
    await assert.rejects(s.rateCards.save('', card), { code: 'VALIDATION' });
    await assert.rejects(s.rateCards.getByName('Bad'), { code: 'NOT_FOUND' });
    assert.deepEqual(await s.rateCards.list(), []);
  });
});
