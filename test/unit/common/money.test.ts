import assert from 'node:assert/strict';
import { assertMoney, formatAmount, parseAmount, roundFraction } from '../../../common/money';

describe('parseAmount()', () => {
  it('turns decimal text into exact minor units', () => {
    assert.equal(parseAmount('12', 2), 1200);
    assert.equal(parseAmount('12.3', 2), 1230);
    assert.equal(parseAmount('0.07', 2), 7);
    assert.equal(parseAmount('-2.50', 2), -250);
    assert.equal(parseAmount('+5', 0), 5);
    assert.equal(parseAmount(' 0.1 ', 2), 10);
    // 0.1 + 0.2 in floating point is not 0.3; here it is exact.
    assert.equal(parseAmount('0.3', 2), parseAmount('0.1', 2) + parseAmount('0.2', 2));
  });

  it('refuses more decimal places than the currency has, rather than rounding', () => {
    assert.throws(() => parseAmount('1.005', 2), /more than 2 decimal places/);
    assert.throws(() => parseAmount('1.5', 0), /whole number/);
  });

  it('refuses text that is not a plain number', () => {
    for (const bad of ['', 'abc', '1e3', '1,000', '0x10', '--1', '1.2.3', 'NaN', 'Infinity']) {
      assert.throws(() => parseAmount(bad, 2), { code: 'VALIDATION' }, bad);
    }
  });

  it('refuses amounts out of range', () => {
    assert.throws(() => parseAmount('100000000000.01', 2), /out of range/);
    assert.throws(() => parseAmount('99999999999999999999', 2), /out of range/);
  });
});

describe('formatAmount()', () => {
  it('formats with symbol, grouping and decimals', () => {
    assert.equal(formatAmount(123456, { symbol: '$', decimals: 2 }), '$1,234.56');
    assert.equal(formatAmount(-5, { symbol: '$', decimals: 2 }), '-$0.05');
    assert.equal(formatAmount(0, { symbol: '', decimals: 0 }), '0');
    assert.equal(formatAmount(1500, { symbol: '€', decimals: 3 }), '€1.500');
  });
});

describe('assertMoney()', () => {
  it('accepts safe integers and refuses the rest', () => {
    assert.equal(assertMoney(-7), -7);
    for (const bad of [1.5, Number.NaN, Infinity, '5', null, 2 ** 60]) assert.throws(() => assertMoney(bad), { code: 'VALIDATION' });
    assert.throws(() => assertMoney(0, 'amount', { positive: true }), /greater than zero/);
    assert.throws(() => assertMoney(-1, 'amount', { nonNegative: true }), /must not be negative/);
  });
});

describe('roundFraction(): the one rounding rule', () => {
  it('rounds halves away from zero and everything else to the nearest unit', () => {
    assert.equal(roundFraction(5n, 2n), 3); // 2.5 → 3
    assert.equal(roundFraction(-5n, 2n), -3); // -2.5 → -3
    assert.equal(roundFraction(24999n, 10000n), 2); // 2.4999 → 2
    assert.equal(roundFraction(25001n, 10000n), 3);
    assert.equal(roundFraction(7n, 1n), 7);
    assert.equal(roundFraction(1n, 3n), 0);
    assert.equal(roundFraction(2n, 3n), 1);
  });

  it('refuses a non-positive denominator', () => {
    assert.throws(() => roundFraction(1n, 0n), RangeError);
  });
});
