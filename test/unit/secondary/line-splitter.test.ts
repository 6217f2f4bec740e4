import assert from 'node:assert/strict';
import { LineSplitter } from '../../../secondary/local-endpoint/line-splitter';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('LineSplitter', () => {
  it('splits on newlines, joins lines split across chunks, and drops a trailing CR', () => {
    const s = new LineSplitter(100);
    assert.deepEqual(s.push(b('{"op":"st')), []);
    assert.deepEqual(s.push(b('atus"}\r\n{"a":1}\n{"b"')), [{ line: '{"op":"status"}' }, { line: '{"a":1}' }]);
    assert.equal(s.pending, 4);
    assert.deepEqual(s.push(b(':2}\n')), [{ line: '{"b":2}' }]);
    assert.equal(s.pending, 0);
  });

  it('keeps a multi-byte character split between chunks intact', () => {
    const s = new LineSplitter(100);
    const bytes = b('{"u":"Zoë"}\n');
    const cut = bytes.indexOf(0xc3) + 1;
    assert.deepEqual(s.push(bytes.subarray(0, cut)), []);
    assert.deepEqual(s.push(bytes.subarray(cut)), [{ line: '{"u":"Zoë"}' }]);
  });

  it('accepts a line of exactly the limit and reports a longer one once, then serves the next line', () => {
    const s = new LineSplitter(10);
    assert.deepEqual(s.push(b('0123456789\n')), [{ line: '0123456789' }]);
    assert.deepEqual(s.push(b('0123456789A')), [{ tooLong: true }]);
    assert.equal(s.pending, 0, 'an oversized line is not buffered');
    assert.deepEqual(s.push(b('more and more bytes of the same line')), []);
    assert.deepEqual(s.push(b('...\nok\n')), [{ line: 'ok' }]);
  });

  it('reports an oversized line that arrives in one chunk with its newline', () => {
    const s = new LineSplitter(4);
    assert.deepEqual(s.push(b('abcdefgh\nabc\n')), [{ tooLong: true }, { line: 'abc' }]);
  });
});
