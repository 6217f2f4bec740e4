/**
 * The PDF standard security handler without tools: RC4 against its published test vectors, and
 * what the handler refuses. Real encrypted files (qpdf, every revision) are in
 * test/integration/print/encrypted-pdf.test.ts.
 */
import assert from 'node:assert/strict';
import { CannotDecrypt, rc4, standardDecryptor, type EncryptParams } from '../../../secondary/print/analysis/pdf-crypt';

const params = (over: Partial<EncryptParams>): EncryptParams => ({
  filter: 'Standard',
  v: 2,
  r: 3,
  length: 128,
  o: Buffer.alloc(32),
  u: Buffer.alloc(32),
  oe: null,
  ue: null,
  p: -4,
  encryptMetadata: true,
  streamMethod: null,
  id0: Buffer.alloc(16),
  ...over,
});

describe('PDF standard security handler', () => {
  it('computes RC4 as its published test vectors say', () => {
    assert.equal(rc4(Buffer.from('Key'), Buffer.from('Plaintext')).toString('hex'), 'bbf316e8d940af0ad3');
    assert.equal(rc4(Buffer.from('Wiki'), Buffer.from('pedia')).toString('hex'), '1021bf0420');
    assert.equal(rc4(Buffer.from('Secret'), Buffer.from('Attack at dawn')).toString('hex'), '45a01f645fc35b383552544b9bf5');
  });

  it('refuses another security handler, an unknown revision, and a user password that is not empty', () => {
    assert.throws(() => standardDecryptor(params({ filter: 'Adobe.PubSec' })), CannotDecrypt);
    assert.throws(() => standardDecryptor(params({ r: 7 })), CannotDecrypt);
    assert.throws(() => standardDecryptor(params({ r: 3, u: Buffer.alloc(32, 1) })), /needs a password/);
    assert.throws(() => standardDecryptor(params({ v: 5, r: 6, u: Buffer.alloc(48, 1), ue: Buffer.alloc(32) })), /needs a password/);
    assert.throws(() => standardDecryptor(params({ v: 5, r: 6, u: Buffer.alloc(10), ue: null })), CannotDecrypt);
  });
});
