import assert from 'node:assert/strict';
import { MAX_AMOUNT } from '../../../common/money';
import { validateRateCard, type RateCardInput } from '../../../primary/pricing';
import { assertInvalid } from './assertions';

/** The smallest valid card: the two default simplex rows. */
function minimal(): RateCardInput {
  return {
    prices: [
      { paperSize: '*', colour: 'grey', sides: 'simplex', pricePerPage: 10 },
      { paperSize: '*', colour: 'colour', sides: 'simplex', pricePerPage: 50 },
    ],
  };
}

/** A card with one extra price row (and any other fields). */
function withRow(row: unknown, extra: Record<string, unknown> = {}): unknown {
  return { ...minimal(), prices: [...minimal().prices, row], ...extra };
}

describe('validateRateCard()', () => {
  describe('a valid card', () => {
    it('needs only the two default simplex rows; the fee, discount and finishings default to none', () => {
      const card = validateRateCard(minimal());
      assert.deepEqual(
        { prices: card.prices, perJobFee: card.perJobFee, duplexDiscountBp: card.duplexDiscountBp, finishings: card.finishings },
        { ...minimal(), perJobFee: 0, duplexDiscountBp: 0, finishings: [] },
      );
    });

    it('keeps every field it is given', () => {
      const card = validateRateCard({
        prices: [...minimal().prices, { paperSize: 'A3', colour: 'colour', sides: 'duplex', pricePerPage: 90 }],
        perJobFee: 5,
        duplexDiscountBp: 2500,
        finishings: [
          { option: 'staple', per: 'job', price: 10 },
          { option: 'fold', per: 'sheet', price: 3 },
        ],
      });
      assert.equal(card.perJobFee, 5);
      assert.equal(card.duplexDiscountBp, 2500);
      assert.deepEqual(card.prices[2], { paperSize: 'A3', colour: 'colour', sides: 'duplex', pricePerPage: 90 });
      assert.deepEqual(card.finishings, [
        { option: 'staple', per: 'job', price: 10 },
        { option: 'fold', per: 'sheet', price: 3 },
      ]);
    });

    it('accepts the extremes: zero prices, a 100 % discount and MAX_AMOUNT', () => {
      const card = validateRateCard({
        prices: [
          { paperSize: '*', colour: 'grey', sides: 'simplex', pricePerPage: 0 },
          { paperSize: '*', colour: 'colour', sides: 'simplex', pricePerPage: MAX_AMOUNT },
        ],
        perJobFee: MAX_AMOUNT,
        duplexDiscountBp: 10_000,
      });
      assert.equal(card.prices[1]?.pricePerPage, MAX_AMOUNT);
      assert.equal(card.duplexDiscountBp, 10_000);
    });

    it('stores paper sizes in canonical form, whatever the spelling', () => {
      const card = validateRateCard({
        prices: [
          ...minimal().prices,
          { paperSize: 'iso_a4_210x297mm', colour: 'grey', sides: 'simplex', pricePerPage: 8 },
          { paperSize: 'letter', colour: 'grey', sides: 'simplex', pricePerPage: 9 },
          { paperSize: 'Photo 4x6', colour: 'colour', sides: 'simplex', pricePerPage: 99 },
        ],
      });
      assert.deepEqual(
        card.prices.map((p) => p.paperSize),
        ['*', '*', 'A4', 'Letter', 'PHOTO 4X6'],
      );
    });

    it('stores finishing options trimmed and in lower case', () => {
      const card = validateRateCard({ ...minimal(), finishings: [{ option: ' Staple ', per: 'job', price: 10 }] });
      assert.equal(card.finishings[0]?.option, 'staple');
    });

    it('returns a frozen card that later changes to the input cannot reach', () => {
      const grey = { paperSize: '*', colour: 'grey', sides: 'simplex', pricePerPage: 10 };
      const card = validateRateCard({ prices: [grey, minimal().prices[1]] });
      assert.ok(Object.isFrozen(card) && Object.isFrozen(card.prices) && Object.isFrozen(card.prices[0]));
      grey.pricePerPage = 1;
      assert.equal(card.prices[0]?.pricePerPage, 10);
    });
  });

  describe('refuses with a ValidationError naming the field', () => {
    it('anything but an object', () => {
      assertInvalid(() => validateRateCard(null), 'rate card');
      assertInvalid(() => validateRateCard([]), 'rate card');
      assertInvalid(() => validateRateCard('{}'), 'rate card');
    });

    it('an unknown field, so a misspelling is not silently ignored', () => {
      assertInvalid(() => validateRateCard({ ...minimal(), duplexDiscount: 2500 }), 'rate card', /unknown field "duplexDiscount"/);
      assertInvalid(
        () => validateRateCard(withRow({ paperSize: 'A4', colour: 'grey', sides: 'simplex', pricePerPage: 8, price: 8 })),
        'prices[2]',
        /unknown field "price"/,
      );
      assertInvalid(() => validateRateCard({ ...minimal(), finishings: [{ option: 'staple', per: 'job', price: 1, perSheet: true }] }), 'finishings[0]');
    });

    it('missing or malformed prices', () => {
      assertInvalid(() => validateRateCard({}), 'prices');
      assertInvalid(() => validateRateCard({ prices: {} }), 'prices');
      assertInvalid(() => validateRateCard(withRow(null)), 'prices[2]');
    });

    it('a card without the default grey simplex row', () => {
      assertInvalid(
        () => validateRateCard({ prices: [{ paperSize: '*', colour: 'colour', sides: 'simplex', pricePerPage: 50 }] }),
        'prices',
        /default grey row/,
      );
    });

    it('a card without the default colour simplex row, even when it has a default colour duplex row', () => {
      assertInvalid(
        () =>
          validateRateCard({
            prices: [
              { paperSize: '*', colour: 'grey', sides: 'simplex', pricePerPage: 10 },
              { paperSize: '*', colour: 'colour', sides: 'duplex', pricePerPage: 40 },
            ],
          }),
        'prices',
        /default colour row/,
      );
    });

    it('a card whose only colour default is for one paper size', () => {
      assertInvalid(
        () =>
          validateRateCard({
            prices: [
              { paperSize: '*', colour: 'grey', sides: 'simplex', pricePerPage: 10 },
              { paperSize: 'A4', colour: 'colour', sides: 'simplex', pricePerPage: 40 },
            ],
          }),
        'prices',
      );
    });

    it('two rows for the same paper size, colour and sides', () => {
      assertInvalid(
        () => validateRateCard(withRow({ paperSize: '*', colour: 'grey', sides: 'simplex', pricePerPage: 12 })),
        'prices[2]',
        /repeats prices\[0\] \(\*, grey, simplex\)/,
      );
    });

    it('two rows that differ only in how the paper size is spelt', () => {
      const a4 = { colour: 'grey', sides: 'duplex', pricePerPage: 6 } as const;
      for (const spelling of ['a4', 'iso_a4_210x297mm', 'A4.Fullbleed']) {
        assertInvalid(
          () => validateRateCard({ prices: [...minimal().prices, { ...a4, paperSize: 'A4' }, { ...a4, paperSize: spelling }] }),
          'prices[3]',
          /repeats prices\[2\] \(A4, grey, duplex\)/,
        );
      }
    });

    it('a price that is a float, negative, NaN, a string, unsafe or beyond MAX_AMOUNT', () => {
      for (const bad of [10.5, -1, Number.NaN, Number.POSITIVE_INFINITY, '10', 2 ** 53, MAX_AMOUNT + 1, null, undefined]) {
        assertInvalid(() => validateRateCard(withRow({ paperSize: 'A4', colour: 'grey', sides: 'simplex', pricePerPage: bad })), 'prices[2].pricePerPage');
      }
      assertInvalid(
        () => validateRateCard(withRow({ paperSize: 'A4', colour: 'grey', sides: 'simplex', pricePerPage: -1 })),
        'prices[2].pricePerPage',
        /must not be negative/,
      );
    });

    it('an unknown colour or sides', () => {
      assertInvalid(() => validateRateCard(withRow({ paperSize: 'A4', colour: 'color', sides: 'simplex', pricePerPage: 1 })), 'prices[2].colour');
      assertInvalid(() => validateRateCard(withRow({ paperSize: 'A4', colour: 'grey', sides: 'double', pricePerPage: 1 })), 'prices[2].sides');
    });

    it('an empty, non-string, over-long or control-character paper size', () => {
      for (const bad of ['', '  ', 4, 'X'.repeat(65), 'A4\n']) {
        assertInvalid(() => validateRateCard(withRow({ paperSize: bad, colour: 'grey', sides: 'simplex', pricePerPage: 1 })), 'prices[2].paperSize');
      }
    });

    it('more than 1000 price rows', () => {
      const prices = Array.from({ length: 1001 }, (_, i) => ({ paperSize: `S${i}`, colour: 'grey', sides: 'simplex', pricePerPage: 1 }));
      assertInvalid(() => validateRateCard({ prices }), 'prices', /more than 1000/);
    });

    it('a per-job fee that is negative, a float or a string', () => {
      for (const bad of [-1, 0.5, '5']) assertInvalid(() => validateRateCard({ ...minimal(), perJobFee: bad }), 'perJobFee');
    });

    it('a duplex discount outside 0..10000 basis points or not a whole number', () => {
      for (const bad of [-1, 10_001, 12.5, '2500', Number.NaN]) {
        assertInvalid(() => validateRateCard({ ...minimal(), duplexDiscountBp: bad }), 'duplexDiscountBp', /from 0 to 10000/);
      }
    });

    it('malformed finishings', () => {
      const card = (finishings: unknown): unknown => ({ ...minimal(), finishings });
      assertInvalid(() => validateRateCard(card('staple')), 'finishings');
      assertInvalid(() => validateRateCard(card([{ option: 'staple', per: 'copy', price: 1 }])), 'finishings[0].per');
      assertInvalid(() => validateRateCard(card([{ option: 'staple', per: 'job', price: 1.5 }])), 'finishings[0].price');
      assertInvalid(() => validateRateCard(card([{ option: 'staple', per: 'job', price: -2 }])), 'finishings[0].price');
      assertInvalid(() => validateRateCard(card([{ option: 'two words', per: 'job', price: 1 }])), 'finishings[0].option');
      assertInvalid(() => validateRateCard(card([{ option: '', per: 'job', price: 1 }])), 'finishings[0].option');
      assertInvalid(() => validateRateCard(card([{ option: 'x'.repeat(33), per: 'job', price: 1 }])), 'finishings[0].option');
      assertInvalid(() => validateRateCard(card([{ option: 7, per: 'job', price: 1 }])), 'finishings[0].option');
    });

    it('the same finishing option twice, whatever its case', () => {
      assertInvalid(
        () =>
          validateRateCard({
            ...minimal(),
            finishings: [
              { option: 'staple', per: 'job', price: 10 },
              { option: 'Staple', per: 'sheet', price: 1 },
            ],
          }),
        'finishings[1]',
        /repeats the option "staple" of finishings\[0\]/,
      );
    });
  });
});
