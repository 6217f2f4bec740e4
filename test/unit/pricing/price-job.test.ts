import assert from 'node:assert/strict';
import { MAX_AMOUNT, roundFraction } from '../../../common/money';
import { priceJob, validateRateCard, type PrintJobDescription, type RateCard } from '../../../primary/pricing';
import { assertInvalid } from './assertions';

/**
 * Every price differs, so each assertion shows which row was used. No fee here; the fee, the
 * finishings and the multiplier have their own cases below.
 */
const card: RateCard = validateRateCard({
  prices: [
    { paperSize: '*', colour: 'grey', sides: 'simplex', pricePerPage: 10 },
    { paperSize: '*', colour: 'colour', sides: 'simplex', pricePerPage: 40 },
    { paperSize: '*', colour: 'grey', sides: 'duplex', pricePerPage: 7 },
    { paperSize: 'A4', colour: 'grey', sides: 'simplex', pricePerPage: 8 },
    { paperSize: 'A4', colour: 'grey', sides: 'duplex', pricePerPage: 6 },
    { paperSize: 'A4', colour: 'colour', sides: 'simplex', pricePerPage: 30 },
    { paperSize: 'A3', colour: 'grey', sides: 'simplex', pricePerPage: 20 },
    { paperSize: 'Legal', colour: 'grey', sides: 'duplex', pricePerPage: 5 },
    { paperSize: 'Photo 4x6', colour: 'colour', sides: 'simplex', pricePerPage: 99 },
  ],
  duplexDiscountBp: 2000,
  finishings: [
    { option: 'staple', per: 'job', price: 25 },
    { option: 'punch', per: 'job', price: 10 },
    { option: 'fold', per: 'sheet', price: 3 },
  ],
});

const withFee = validateRateCard({
  prices: [
    { paperSize: '*', colour: 'grey', sides: 'simplex', pricePerPage: 10 },
    { paperSize: '*', colour: 'colour', sides: 'simplex', pricePerPage: 40 },
  ],
  perJobFee: 5,
  finishings: [
    { option: 'staple', per: 'job', price: 25 },
    { option: 'fold', per: 'sheet', price: 3 },
  ],
});

/** A per-page price of 15 less 10 % is 13.5: a card whose duplex pages cost half a unit. */
const halfUnit = validateRateCard({
  prices: [
    { paperSize: '*', colour: 'grey', sides: 'simplex', pricePerPage: 15 },
    { paperSize: '*', colour: 'colour', sides: 'simplex', pricePerPage: 15 },
  ],
  duplexDiscountBp: 1000,
});

/** One fee of 1 and nothing else, to show the rounding of a multiplied unit. */
const feeOfOne = validateRateCard({
  prices: [
    { paperSize: '*', colour: 'grey', sides: 'simplex', pricePerPage: 1 },
    { paperSize: '*', colour: 'colour', sides: 'simplex', pricePerPage: 1 },
  ],
  perJobFee: 1,
});

function job(overrides: Partial<PrintJobDescription> = {}): PrintJobDescription {
  return { pages: 1, colourPages: 0, copies: 1, duplex: false, paperSize: 'A4', finishings: [], ...overrides };
}

const X1 = 10_000;

describe('priceJob()', () => {
  describe('looking up the price of a page', () => {
    it('charges the row for the paper size, colour and sides when one exists', () => {
      const quote = priceJob(card, job({ pages: 5 }), X1);
      assert.equal(quote.total, 40);
      assert.deepEqual(quote.breakdown.greyPrice, { paperSize: 'A4', sides: 'simplex', pricePerPage: 8, duplexDiscountBp: 0 });
    });

    it('charges the default row for a paper size the card does not list', () => {
      const quote = priceJob(card, job({ pages: 5, paperSize: 'Letter' }), X1);
      assert.equal(quote.total, 50);
      assert.deepEqual(quote.breakdown.greyPrice, { paperSize: '*', sides: 'simplex', pricePerPage: 10, duplexDiscountBp: 0 });
    });

    it('charges the default row for a job whose paper size is unknown (empty)', () => {
      assert.equal(priceJob(card, job({ pages: 5, paperSize: '' }), X1).total, 50);
    });

    it('charges the duplex row when one exists, without the duplex discount', () => {
      const quote = priceJob(card, job({ pages: 4, duplex: true }), X1);
      assert.equal(quote.total, 24);
      assert.deepEqual(quote.breakdown.greyPrice, { paperSize: 'A4', sides: 'duplex', pricePerPage: 6, duplexDiscountBp: 0 });
    });

    it('charges the simplex row less the duplex discount when the size has no duplex row', () => {
      const quote = priceJob(card, job({ pages: 2, colourPages: 2, duplex: true }), X1);
      assert.equal(quote.total, 48); // 2 × 30 × 80 %
      assert.deepEqual(quote.breakdown.colourPrice, { paperSize: 'A4', sides: 'simplex', pricePerPage: 30, duplexDiscountBp: 2000 });
    });

    it("prefers the size's simplex row less the discount to the default duplex row", () => {
      const quote = priceJob(card, job({ pages: 2, duplex: true, paperSize: 'A3' }), X1);
      assert.equal(quote.total, 32); // 2 × 20 × 80 %, not 2 × 7
      assert.equal(quote.breakdown.greyPrice.paperSize, 'A3');
    });

    it('charges the default duplex row for a duplex job of an unlisted size', () => {
      const quote = priceJob(card, job({ pages: 4, duplex: true, paperSize: 'Letter' }), X1);
      assert.equal(quote.total, 28);
      assert.deepEqual(quote.breakdown.greyPrice, { paperSize: '*', sides: 'duplex', pricePerPage: 7, duplexDiscountBp: 0 });
    });

    it('charges the default simplex row less the discount when there is no duplex row at all', () => {
      const quote = priceJob(card, job({ pages: 2, colourPages: 2, duplex: true, paperSize: 'Letter' }), X1);
      assert.equal(quote.total, 64); // 2 × 40 × 80 %
      assert.deepEqual(quote.breakdown.colourPrice, { paperSize: '*', sides: 'simplex', pricePerPage: 40, duplexDiscountBp: 2000 });
    });

    it('charges the default colour row when the size lists only a grey price', () => {
      assert.equal(priceJob(card, job({ pages: 3, colourPages: 3, paperSize: 'A3' }), X1).total, 120);
    });

    it('never uses a duplex row for a simplex job', () => {
      const quote = priceJob(card, job({ pages: 3, paperSize: 'Legal' }), X1);
      assert.equal(quote.total, 30); // the default simplex 10, not Legal duplex 5
      assert.equal(quote.breakdown.greyPrice.paperSize, '*');
    });

    it('matches paper sizes whatever their spelling on the card or in the job', () => {
      assert.equal(priceJob(card, job({ pages: 5, paperSize: 'iso_a4_210x297mm' }), X1).total, 40);
      assert.equal(priceJob(card, job({ pages: 5, paperSize: 'a4' }), X1).total, 40);
      assert.equal(priceJob(card, job({ pages: 1, colourPages: 1, paperSize: 'PHOTO 4X6' }), X1).total, 99);
      assert.equal(priceJob(card, job({ pages: 1, colourPages: 1, paperSize: 'photo 4x6' }), X1).total, 99);
      assert.equal(priceJob(card, job({ paperSize: 'na_letter_8.5x11in' }), X1).breakdown.paperSize, 'Letter');
    });
  });

  describe('pages, sheets and copies', () => {
    it('charges grey and colour pages at their own prices', () => {
      const quote = priceJob(card, job({ pages: 10, colourPages: 3, copies: 2 }), X1);
      assert.equal(quote.total, 292); // 2 × (7 × 8 + 3 × 30)
      assert.equal(quote.breakdown.pagesGrey, 14);
      assert.equal(quote.breakdown.pagesColour, 6);
      assert.equal(quote.pages, 20);
      assert.equal(quote.sheets, 20);
    });

    it('counts a sheet for every two pages of a duplex copy, rounding an odd page up', () => {
      const quote = priceJob(card, job({ pages: 5, duplex: true, copies: 2, finishings: ['fold'] }), X1);
      assert.equal(quote.breakdown.sheetsPerCopy, 3);
      assert.equal(quote.sheets, 6);
      assert.equal(quote.pages, 10);
      assert.equal(quote.total, 78); // 2 × 5 × 6 + 6 sheets × 3
    });

    it('starts every duplex copy on a new sheet', () => {
      assert.equal(priceJob(card, job({ pages: 1, duplex: true, copies: 3 }), X1).sheets, 3);
    });

    it('multiplies pages and per-sheet finishing by copies, but not the fee or per-job finishing', () => {
      const one = priceJob(withFee, job({ pages: 2, finishings: ['staple', 'fold'] }), X1);
      const three = priceJob(withFee, job({ pages: 2, copies: 3, finishings: ['staple', 'fold'] }), X1);
      assert.equal(one.total, 20 + 6 + 25 + 5);
      assert.equal(three.total, 60 + 18 + 25 + 5);
    });

    it('charges a zero-page job only the fee and per-job finishing', () => {
      const quote = priceJob(withFee, job({ pages: 0, copies: 4, finishings: ['staple', 'fold'] }), X1);
      assert.equal(quote.total, 30);
      assert.equal(quote.sheets, 0);
      assert.equal(quote.pages, 0);
      assert.deepEqual(quote.breakdown.finishing, [
        { option: 'staple', per: 'job', price: 25, quantity: 1 },
        { option: 'fold', per: 'sheet', price: 3, quantity: 0 },
      ]);
    });

    it('charges nothing for a zero-page job on a card without fees', () => {
      assert.equal(priceJob(card, job({ pages: 0 }), X1).total, 0);
    });
  });

  describe('finishing', () => {
    it('charges a per-job option once and a per-sheet option for every sheet', () => {
      const quote = priceJob(card, job({ pages: 4, duplex: true, copies: 2, finishings: ['staple', 'fold'] }), X1);
      assert.equal(quote.total, 48 + 25 + 4 * 3); // 2 × 4 × 6, staple, 4 sheets folded
      assert.deepEqual(quote.breakdown.finishing, [
        { option: 'staple', per: 'job', price: 25, quantity: 1 },
        { option: 'fold', per: 'sheet', price: 3, quantity: 4 },
      ]);
    });

    it('matches option names case-insensitively and charges an option named twice once', () => {
      const quote = priceJob(card, job({ pages: 1, finishings: ['Staple', 'staple', ' PUNCH '] }), X1);
      assert.equal(quote.total, 8 + 25 + 10);
      assert.deepEqual(
        quote.breakdown.finishing.map((f) => f.option),
        ['staple', 'punch'],
      );
    });

    it('refuses a finishing the card does not offer rather than doing it for free', () => {
      assertInvalid(() => priceJob(card, job({ finishings: ['staple', 'bind'] }), X1), 'finishings[1]', /finishing "bind" is not offered/);
    });
  });

  describe('the cost multiplier', () => {
    it('applies to the whole job, fees and finishing included', () => {
      const quote = priceJob(withFee, job({ pages: 2, finishings: ['staple', 'fold'] }), 20_000);
      assert.equal(quote.total, 2 * (20 + 6 + 25 + 5));
      assert.equal(quote.breakdown.multiplierBp, 20_000);
    });

    it('makes a job free at 0', () => {
      assert.equal(priceJob(withFee, job({ pages: 9, finishings: ['staple'] }), 0).total, 0);
    });

    it('rounds an exact half unit up and anything below a half down', () => {
      const total = (multiplierBp: number): number => priceJob(feeOfOne, job({ pages: 0 }), multiplierBp).total;
      assert.equal(total(5000), 1); // 0.5
      assert.equal(total(4999), 0); // 0.4999
      assert.equal(total(15_000), 2); // 1.5
      assert.equal(total(14_999), 1); // 1.4999
      assert.equal(total(15_001), 2); // 1.5001
      assert.equal(total(25_000), 3); // 2.5: half away from zero, not to even
    });

    it('accepts the largest multiplier, ×100', () => {
      assert.equal(priceJob(feeOfOne, job({ pages: 0 }), 1_000_000).total, 100);
    });
  });

  describe('rounding once, at the end', () => {
    it('keeps a discounted half unit per page exact until the total', () => {
      const quote = priceJob(halfUnit, job({ pages: 3, duplex: true }), X1);
      assert.equal(quote.breakdown.exactTotal, '40.5');
      assert.equal(quote.total, 41); // 3 × 13.5 = 40.5; rounding each page would give 42
    });

    it('rounds a half unit of one page up', () => {
      assert.equal(priceJob(halfUnit, job({ pages: 1, duplex: true }), X1).total, 14); // 13.5
    });

    it('multiplies the exact discounted price, not a rounded one', () => {
      const quote = priceJob(halfUnit, job({ pages: 1, duplex: true }), 3333);
      assert.equal(quote.breakdown.exactTotal, '4.49955');
      assert.equal(quote.total, 4); // 13.5 × 0.3333; rounding 13.5 first would give 14 × 0.3333 = 4.67 → 5
    });

    it('reports whole totals without a fraction', () => {
      assert.equal(priceJob(card, job({ pages: 5 }), X1).breakdown.exactTotal, '40');
      assert.equal(priceJob(card, job({ pages: 0 }), X1).breakdown.exactTotal, '0');
    });
  });

  describe('the rounding rule itself (common/money roundFraction)', () => {
    it('rounds halves away from zero, symmetrically for negative amounts', () => {
      assert.equal(roundFraction(5n, 10n), 1);
      assert.equal(roundFraction(-5n, 10n), -1);
      assert.equal(roundFraction(4999n, 10_000n), 0);
      assert.equal(roundFraction(-4999n, 10_000n), 0);
      assert.equal(roundFraction(15n, 10n), 2);
      assert.equal(roundFraction(-15n, 10n), -2);
      assert.equal(roundFraction(14_999n, 10_000n), 1);
      assert.equal(roundFraction(-14_999n, 10_000n), -1);
    });
  });

  describe('the largest amounts', () => {
    const dear = validateRateCard({
      prices: [
        { paperSize: '*', colour: 'grey', sides: 'simplex', pricePerPage: MAX_AMOUNT },
        { paperSize: '*', colour: 'colour', sides: 'simplex', pricePerPage: 1 },
      ],
    });

    it('prices a job whose total is exactly MAX_AMOUNT', () => {
      assert.equal(priceJob(dear, job({ pages: 1 }), X1).total, MAX_AMOUNT);
    });

    it('refuses a job whose total would exceed MAX_AMOUNT', () => {
      assertInvalid(() => priceJob(dear, job({ pages: 1 }), 10_001), 'total', /out of range/);
      // 2 × MAX_AMOUNT + 1, halved: MAX_AMOUNT + 0.5 rounds past the limit; 2 × MAX_AMOUNT halved does not
      assertInvalid(() => priceJob(dear, job({ pages: 3, colourPages: 1 }), 5000), 'total');
      assert.equal(priceJob(dear, job({ pages: 2 }), 5000).total, MAX_AMOUNT);
      assertInvalid(() => priceJob(dear, job({ pages: 1_000_000, copies: 10_000 }), 1_000_000), 'total');
    });

    it('stays exact when the intermediate amounts pass 2^53', () => {
      const quote = priceJob(card, job({ pages: 999_999, colourPages: 999_999, copies: 10_000, duplex: true }), 33_333);
      // 9 999 990 000 pages × 30 × 80 % × 3.3333 = 799 991 200 008.0000 exactly; floats would drift
      assert.equal(quote.breakdown.exactTotal, '799991200008');
      assert.equal(quote.total, 799_991_200_008);
    });
  });

  describe('refuses with a ValidationError naming the field', () => {
    it('a page count that is not a whole number from 0 to 1 000 000', () => {
      for (const bad of [1.5, -1, 1_000_001, Number.NaN, '5', undefined]) {
        assertInvalid(() => priceJob(card, job({ pages: bad as number }), X1), 'pages');
      }
    });

    it('more colour pages than pages, or a negative or fractional count', () => {
      assertInvalid(() => priceJob(card, job({ pages: 3, colourPages: 4 }), X1), 'colourPages', /from 0 to the job's pages \(3\)/);
      assertInvalid(() => priceJob(card, job({ pages: 3, colourPages: -1 }), X1), 'colourPages');
      assertInvalid(() => priceJob(card, job({ pages: 3, colourPages: 0.5 }), X1), 'colourPages');
    });

    it('copies that are not a whole number from 1 to 10 000', () => {
      for (const bad of [0, -1, 2.5, 10_001]) {
        assertInvalid(() => priceJob(card, job({ copies: bad }), X1), 'copies');
      }
    });

    it('a duplex flag that is not a boolean', () => {
      assertInvalid(() => priceJob(card, job({ duplex: 'yes' as unknown as boolean }), X1), 'duplex');
    });

    it('a paper size that is not a string, too long, or has control characters', () => {
      for (const bad of [4, 'X'.repeat(65), 'A4\u0000']) {
        assertInvalid(() => priceJob(card, job({ paperSize: bad as string }), X1), 'paperSize');
      }
    });

    it('finishings that are not a list of option names', () => {
      assertInvalid(() => priceJob(card, job({ finishings: 'staple' as unknown as string[] }), X1), 'finishings');
      assertInvalid(() => priceJob(card, job({ finishings: ['staple', 3 as unknown as string] }), X1), 'finishings[1]');
      assertInvalid(() => priceJob(card, job({ finishings: Array<string>(101).fill('staple') }), X1), 'finishings');
    });

    it('a multiplier outside 0..1 000 000 basis points or not a whole number', () => {
      for (const bad of [-1, 1_000_001, 1.5, Number.NaN]) {
        assertInvalid(() => priceJob(card, job(), bad), 'multiplierBp');
      }
    });

    it('a job that is not an object', () => {
      assertInvalid(() => priceJob(card, null as unknown as PrintJobDescription, X1), 'job');
    });
  });
});
