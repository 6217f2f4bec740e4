/**
 * The worked examples of docs/pricing.md, figure for figure: if one of these changes, the
 * document must change with it.
 */
import assert from 'node:assert/strict';
import { priceJob, validateRateCard } from '../../../primary/pricing';

describe('docs/pricing.md worked examples', () => {
  const library = validateRateCard({
    prices: [
      { paperSize: '*', colour: 'grey', sides: 'simplex', pricePerPage: 10 },
      { paperSize: '*', colour: 'colour', sides: 'simplex', pricePerPage: 50 },
      { paperSize: 'A3', colour: 'grey', sides: 'simplex', pricePerPage: 20 },
      { paperSize: 'A3', colour: 'colour', sides: 'simplex', pricePerPage: 100 },
      { paperSize: 'A3', colour: 'colour', sides: 'duplex', pricePerPage: 90 },
    ],
    perJobFee: 5,
    duplexDiscountBp: 2500,
    finishings: [
      { option: 'staple', per: 'job', price: 10 },
      { option: 'punch', per: 'job', price: 5 },
      { option: 'fold', per: 'sheet', price: 3 },
    ],
  });

  it('example 1: an A4 handout, duplex, partly colour, three stapled copies, costs 353', () => {
    const quote = priceJob(library, { pages: 7, colourPages: 2, copies: 3, duplex: true, paperSize: 'iso_a4_210x297mm', finishings: ['staple'] }, 10_000);
    assert.deepEqual(quote.breakdown.greyPrice, { paperSize: '*', sides: 'simplex', pricePerPage: 10, duplexDiscountBp: 2500 });
    assert.deepEqual(quote.breakdown.colourPrice, { paperSize: '*', sides: 'simplex', pricePerPage: 50, duplexDiscountBp: 2500 });
    assert.equal(quote.breakdown.pagesGrey, 15);
    assert.equal(quote.breakdown.pagesColour, 6);
    assert.equal(quote.sheets, 12);
    assert.equal(quote.pages, 21);
    assert.equal(quote.breakdown.exactTotal, '352.5');
    assert.equal(quote.total, 353);
  });

  it('example 2: an A3 colour poster, duplex, two folded copies, charged to a ×1.25 account, costs 1154', () => {
    const quote = priceJob(library, { pages: 5, colourPages: 5, copies: 2, duplex: true, paperSize: 'A3', finishings: ['fold'] }, 12_500);
    assert.deepEqual(quote.breakdown.colourPrice, { paperSize: 'A3', sides: 'duplex', pricePerPage: 90, duplexDiscountBp: 0 });
    assert.equal(quote.sheets, 6);
    assert.deepEqual(quote.breakdown.finishing, [{ option: 'fold', per: 'sheet', price: 3, quantity: 6 }]);
    assert.equal(quote.breakdown.exactTotal, '1153.75');
    assert.equal(quote.total, 1154);
  });

  it('example 3: a Letter report, simplex, for a user at ×0.75, costs 101', () => {
    const quote = priceJob(library, { pages: 13, colourPages: 0, copies: 1, duplex: false, paperSize: 'na_letter_8.5x11in', finishings: [] }, 7500);
    assert.deepEqual(quote.breakdown.greyPrice, { paperSize: '*', sides: 'simplex', pricePerPage: 10, duplexDiscountBp: 0 });
    assert.equal(quote.breakdown.exactTotal, '101.25');
    assert.equal(quote.total, 101);
  });
});
