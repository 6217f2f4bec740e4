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
    assert.deepEqual(
      (await s.rateCards.list()).map((c) => c.name),
      ['Main'],
    );
  });

  it('raises the version with every save and refuses a save based on a version that is no longer current, changing nothing', async () => {
    const s = servicesFor(t.db);
    const first = await s.rateCards.save('Main', card, 'admin');
    assert.equal(first.version, 1);
    const second = await s.rateCards.save('Main', { prices: card.prices.slice(0, 2) }, 'admin', {}, 1);
    assert.equal(second.version, 2);
    await assert.rejects(s.rateCards.save('Main', card, 'other-admin', {}, 1), (err: { code?: string; details?: Record<string, unknown> }) => {
      assert.equal(err.code, 'INVALID_STATE');
      assert.deepEqual(err.details, { field: 'version', expected: 1, current: 2 });
      return true;
    });
    assert.deepEqual(await s.rateCards.get(first.id), second, 'the refused save changed nothing');
    const audit = (await t.db.knex('audit_log').where({ target_type: 'rate_card', target_id: 'Main' }).orderBy('id').select('actor', 'action')) as {
      actor: string;
      action: string;
    }[];
    assert.deepEqual(audit, [
      { actor: 'admin', action: 'rate_card.create' },
      { actor: 'admin', action: 'rate_card.update' },
    ]);
    // Without a version (the CLI importing a file) the save replaces whatever is there.
    assert.equal((await s.rateCards.save('Main', card)).version, 3);
  });

  it('lets exactly one of two saves made from the same version through', async () => {
    const s = servicesFor(t.db);
    const { id } = await s.rateCards.save('Main', card);
    const cheaper = { ...card, perJobFee: 1 };
    const dearer = { ...card, perJobFee: 9 };
    const results = await Promise.allSettled([s.rateCards.save('Main', cheaper, 'ann', {}, 1), s.rateCards.save('Main', dearer, 'bob', {}, 1)]);
    assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
    const won = results.findIndex((r) => r.status === 'fulfilled');
    const stored = await s.rateCards.get(id);
    assert.deepEqual([stored.version, stored.card.perJobFee], [2, won === 0 ? 1 : 9]);
  });

  it('refuses an invalid card and changes nothing', async () => {
    const s = servicesFor(t.db);
    await assert.rejects(s.rateCards.save('Bad', { prices: [card.prices[0]] }), { code: 'VALIDATION' });
    await assert.rejects(s.rateCards.save('', card), { code: 'VALIDATION' });
    await assert.rejects(s.rateCards.getByName('Bad'), { code: 'NOT_FOUND' });
    assert.deepEqual(await s.rateCards.list(), []);
  });
});
