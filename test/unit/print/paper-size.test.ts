import assert from 'node:assert/strict';
import { paperSizeFromPoints } from '../../../secondary/print/analysis/paper-size';

describe('paperSizeFromPoints()', () => {
  it('names the standard sizes either way round, within a few points', () => {
    assert.equal(paperSizeFromPoints(595.28, 841.89), 'A4');
    assert.equal(paperSizeFromPoints(842, 595), 'A4');
    assert.equal(paperSizeFromPoints(612, 792), 'Letter');
    assert.equal(paperSizeFromPoints(612, 1008), 'Legal');
    assert.equal(paperSizeFromPoints(842, 1191), 'A3');
    assert.equal(paperSizeFromPoints(420, 595), 'A5');
    assert.equal(paperSizeFromPoints(792, 1224), 'Tabloid');
    assert.equal(paperSizeFromPoints(598, 845), 'A4');
  });

  it('gives other sizes in millimetres and refuses nonsense', () => {
    assert.equal(paperSizeFromPoints(283.46, 425.2), '100x150mm');
    assert.equal(paperSizeFromPoints(600, 842), '212x297mm');
    assert.equal(paperSizeFromPoints(0, 842), null);
    assert.equal(paperSizeFromPoints(Number.NaN, 842), null);
  });
});
