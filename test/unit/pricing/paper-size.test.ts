import assert from 'node:assert/strict';
import { normalisePaperSize } from '../../../primary/pricing';

describe('normalisePaperSize()', () => {
  const cases: [raw: string, canonical: string][] = [
    ['A4', 'A4'],
    ['a4', 'A4'],
    [' a4 ', 'A4'],
    ['iso_a4_210x297mm', 'A4'],
    ['iso-a4', 'A4'],
    ['iso-a4-white', 'A4'],
    ['A4Small', 'A4'],
    ['A4.Fullbleed', 'A4'],
    ['iso_a3_297x420mm', 'A3'],
    ['iso_a5_148x210mm', 'A5'],
    ['iso_a6_105x148mm', 'A6'],
    ['Letter', 'Letter'],
    ['LETTER', 'Letter'],
    ['na_letter_8.5x11in', 'Letter'],
    ['na-letter-white', 'Letter'],
    ['Letter.Borderless', 'Letter'],
    ['Legal', 'Legal'],
    ['na_legal_8.5x14in', 'Legal'],
    ['Tabloid', 'Tabloid'],
    ['Ledger', 'Tabloid'],
    ['na_ledger_11x17in', 'Tabloid'],
    ['Executive', 'Executive'],
    ['na_executive_7.25x10.5in', 'Executive'],
  ];
  for (const [raw, canonical] of cases) {
    it(`maps ${JSON.stringify(raw)} to ${canonical}`, () => {
      assert.equal(normalisePaperSize(raw), canonical);
    });
  }

  it('upper-cases names it does not know, so they still compare case-insensitively', () => {
    assert.equal(normalisePaperSize('Photo 4x6'), 'PHOTO 4X6');
    assert.equal(normalisePaperSize('photo 4X6'), 'PHOTO 4X6');
    assert.equal(normalisePaperSize('na_index-4x6_4x6in'), 'NA_INDEX-4X6_4X6IN');
    assert.equal(normalisePaperSize('Custom.210x297mm'), 'CUSTOM.210X297MM');
  });

  it('leaves the default-row marker and an empty name as they are', () => {
    assert.equal(normalisePaperSize('*'), '*');
    assert.equal(normalisePaperSize(''), '');
  });
});
