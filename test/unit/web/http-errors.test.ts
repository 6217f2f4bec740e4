import assert from 'node:assert/strict';
import { NotFoundError, ValidationError } from '../../../common/errors';
import { requestError } from '../../../web-tools/middleware/request-errors';

/** An error as express's router and body-parser make them (http-errors: status, type, expose). */
const httpLayer = (status: number, type: string, extra: Record<string, unknown> = {}): Error =>
  Object.assign(new Error(type), { status, statusCode: status, type, expose: status < 500, ...extra });

describe('requestError()', () => {
  it('keeps a QuotientError as it is', () => {
    const err = new ValidationError('bad', { field: 'amount' });
    assert.equal(requestError(err), err);
    assert.equal(requestError(new NotFoundError('user', 1))?.httpStatus, 404);
  });

  it('turns a body over the limits into TOO_LARGE (413), by status or by body-parser type', () => {
    const bytes = requestError(httpLayer(413, 'entity.too.large', { limit: 65_536, length: 200_000 }));
    assert.deepEqual([bytes?.code, bytes?.httpStatus, bytes?.details], ['TOO_LARGE', 413, { reason: 'entity.too.large', limit: 65_536 }]);
    const fields = requestError(httpLayer(413, 'parameters.too.many', { body: 'password=secret' }));
    assert.deepEqual([fields?.code, fields?.details], ['TOO_LARGE', { reason: 'parameters.too.many' }]);
  });

  it('turns every other refusal of the request into BAD_REQUEST (400): charset, encoding, path decoding, unreadable body', () => {
    const cases: [unknown, string][] = [
      [httpLayer(415, 'charset.unsupported'), 'charset.unsupported'],
      [httpLayer(415, 'encoding.unsupported'), 'encoding.unsupported'],
      [httpLayer(400, 'entity.parse.failed'), 'entity.parse.failed'],
      [httpLayer(400, 'request.aborted'), 'request.aborted'],
      [Object.assign(new URIError("Failed to decode param '%E0%A4%A'"), { status: 400 }), 'uri'],
      [new URIError('URI malformed'), 'uri'],
    ];
    for (const [err, reason] of cases) {
      const e = requestError(err);
      assert.deepEqual([e?.code, e?.httpStatus, e?.details.reason], ['BAD_REQUEST', 400, reason], reason);
    }
  });

  it('leaves anything else (a bug, a 5xx from the HTTP layer, a thrown string) to be a 500', () => {
    assert.equal(requestError(new TypeError('x is undefined')), undefined);
    assert.equal(requestError(httpLayer(500, 'stream.encoding.set')), undefined);
    assert.equal(requestError('boom'), undefined);
    assert.equal(requestError(null), undefined);
  });
});
