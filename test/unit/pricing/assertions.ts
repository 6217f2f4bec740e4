/**
 * Test helper for the pricing specs: asserts that a call is refused with a ValidationError that
 * names the offending field.
 */
import assert from 'node:assert/strict';
import { ValidationError } from '../../../common/errors';

export function assertInvalid(fn: () => unknown, field: string, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ValidationError, `expected a ValidationError, got ${String(err)}`);
    assert.equal(err.code, 'VALIDATION');
    assert.equal(err.details.field, field);
    if (message !== undefined) assert.match(err.message, message);
    return true;
  });
}
