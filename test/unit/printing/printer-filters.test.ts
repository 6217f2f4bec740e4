import assert from 'node:assert/strict';
import {
  checkFilters,
  globMatches,
  globProblem,
  parseFilters,
  readStoredFilters,
  type FilteredJob,
  type PrinterFilters,
} from '../../../primary/printing/printer-filters';

const USD = { symbol: '$', decimals: 2 };

function job(overrides: Partial<FilteredJob> = {}): FilteredJob {
  return { pages: 3, colourPages: 0, copies: 1, duplex: false, paperSize: 'A4', documentName: 'essay.pdf', ...overrides };
}

const check = (filters: PrinterFilters, j: Partial<FilteredJob> = {}, cost = 30, recentAgeSeconds?: number): string | undefined =>
  checkFilters(filters, job(j), { cost, currency: USD }, recentAgeSeconds === undefined ? undefined : { ageSeconds: recentAgeSeconds });

describe('printer filters', () => {
  describe('checkFilters()', () => {
    it('allows every job when no filter is set', () => {
      assert.equal(
        check({}, { pages: 1_000_000, copies: 10_000, colourPages: 5, duplex: true, paperSize: 'A0', documentName: 'x.exe' }, 10 ** 12, 0),
        undefined,
      );
    });

    it('maxCopies: allows the limit and refuses one more', () => {
      assert.equal(check({ maxCopies: 5 }, { copies: 5 }), undefined);
      assert.equal(check({ maxCopies: 5 }, { copies: 6 }), 'this printer allows at most 5 copies per job; this job asks for 6');
      assert.equal(check({ maxCopies: 1 }, { copies: 2 }), 'this printer allows at most 1 copy per job; this job asks for 2');
    });

    it('maxPages: counts pages over all copies', () => {
      assert.equal(check({ maxPages: 60 }, { pages: 20, copies: 3 }), undefined);
      assert.equal(check({ maxPages: 50 }, { pages: 20, copies: 3 }), 'this job has 60 pages (20 × 3 copies); this printer allows at most 50 per job');
      assert.equal(check({ maxPages: 50 }, { pages: 51 }), 'this job has 51 pages; this printer allows at most 50 per job');
    });

    it('maxCost: compares the priced cost in minor units and shows both in the currency', () => {
      assert.equal(check({ maxCost: 500 }, {}, 500), undefined);
      assert.equal(check({ maxCost: 500 }, {}, 501), 'this job costs $5.01; this printer allows at most $5.00 per job');
      assert.equal(check({ maxCost: 0 }, {}, 0), undefined);
    });

    it('greyscaleOnly refuses a job with any colour page; colourOnly refuses a job with none', () => {
      assert.equal(check({ colour: 'greyscaleOnly' }, { colourPages: 0 }), undefined);
      assert.equal(check({ colour: 'greyscaleOnly' }, { colourPages: 1 }), 'this printer prints in greyscale only; print the job in black and white');
      assert.equal(check({ colour: 'colourOnly' }, { colourPages: 1 }), undefined);
      assert.equal(check({ colour: 'colourOnly' }, { colourPages: 0 }), 'this printer is for colour jobs only; send black-and-white jobs to another printer');
    });

    it('simplexOnly refuses duplex; duplexOnly refuses simplex jobs of two or more pages', () => {
      assert.equal(check({ sides: 'simplexOnly' }, { duplex: false }), undefined);
      assert.equal(check({ sides: 'simplexOnly' }, { duplex: true }), 'this printer prints single-sided only; choose one-sided printing');
      assert.equal(check({ sides: 'duplexOnly' }, { duplex: true }), undefined);
      assert.equal(check({ sides: 'duplexOnly' }, { duplex: false, pages: 1 }), undefined);
      assert.equal(check({ sides: 'duplexOnly' }, { duplex: false, pages: 2 }), 'this printer prints double-sided only; choose two-sided printing');
    });

    it('allowedPaperSizes: matches any spelling of a size, and lets a job of unknown size through', () => {
      const f = parseFilters({ allowedPaperSizes: ['a4', 'Letter'] });
      assert.deepEqual(f.allowedPaperSizes, ['A4', 'Letter']);
      assert.equal(check(f, { paperSize: 'iso_a4_210x297mm' }), undefined);
      assert.equal(check(f, { paperSize: 'na_letter_8.5x11in' }), undefined);
      assert.equal(check(f, { paperSize: '' }), undefined);
      assert.equal(check(f, { paperSize: 'na_legal_8.5x14in' }), 'this printer does not take Legal paper; it takes A4, Letter');
    });

    it('documentNames: deny globs refuse, allow globs must match, case-insensitively', () => {
      const deny = parseFilters({ documentNames: { deny: ['*.exe', '*secret*'] } });
      assert.equal(check(deny, { documentName: 'Essay.PDF' }), undefined);
      assert.equal(check(deny, { documentName: 'SETUP.EXE' }), 'documents named "SETUP.EXE" may not be printed on this printer');
      assert.equal(check(deny, { documentName: 'Top Secret plans.docx' }), 'documents named "Top Secret plans.docx" may not be printed on this printer');
      const allow = parseFilters({ documentNames: { allow: ['*.pdf', '*.docx'], deny: ['draft*'] } });
      assert.equal(check(allow, { documentName: 'report.PDF' }), undefined);
      assert.equal(check(allow, { documentName: 'draft.pdf' }), 'documents named "draft.pdf" may not be printed on this printer');
      assert.equal(check(allow, { documentName: 'photo.png' }), 'this printer prints only documents named like *.pdf, *.docx; "photo.png" is not one');
      assert.equal(check(allow, { documentName: '' }), 'this printer prints only documents named like *.pdf, *.docx; "" is not one');
    });

    it('duplicateWindowSeconds: refuses a duplicate within the window, in whole seconds', () => {
      assert.equal(check({ duplicateWindowSeconds: 60 }, {}, 30, 12.4), 'duplicate of a job printed 12 s ago');
      assert.equal(check({ duplicateWindowSeconds: 60 }, {}, 30, 60), 'duplicate of a job printed 60 s ago');
      assert.equal(check({ duplicateWindowSeconds: 60 }, {}, 30, 61), undefined);
      assert.equal(check({ duplicateWindowSeconds: 60 }, {}, 30), undefined);
      assert.equal(check({}, {}, 30, 1), undefined, 'a recent job without a window is no duplicate');
    });

    it('gives the first broken rule: copies, pages, colour, sides, paper, name, cost, duplicate', () => {
      const all = parseFilters({ maxCopies: 1, maxPages: 1, colour: 'greyscaleOnly', maxCost: 1, duplicateWindowSeconds: 60 });
      assert.match(check(all, { copies: 2, pages: 2, colourPages: 1 }, 100, 1) ?? '', /copy per job/);
      assert.match(check(all, { pages: 2, colourPages: 1 }, 100, 1) ?? '', /has 2 pages/);
      assert.match(check(all, { pages: 1, colourPages: 1 }, 100, 1) ?? '', /greyscale only/);
      assert.match(check(all, { pages: 1 }, 100, 1) ?? '', /costs \$1\.00/);
      assert.match(check(all, { pages: 1 }, 1, 1) ?? '', /duplicate/);
    });
  });

  describe('parseFilters()', () => {
    it('keeps valid filters, normalised', () => {
      assert.deepEqual(
        parseFilters({
          maxPages: 100,
          maxCopies: 10,
          maxCost: 500,
          colour: 'greyscaleOnly',
          sides: 'duplexOnly',
          allowedPaperSizes: ['A4', 'iso_a4_210x297mm', 'letter'],
          documentNames: { deny: ['*.exe'] },
          duplicateWindowSeconds: 60,
        }),
        {
          maxPages: 100,
          maxCopies: 10,
          maxCost: 500,
          colour: 'greyscaleOnly',
          sides: 'duplexOnly',
          allowedPaperSizes: ['A4', 'Letter'],
          documentNames: { allow: [], deny: ['*.exe'] },
          duplicateWindowSeconds: 60,
        },
      );
      assert.deepEqual(parseFilters({}), {});
      assert.deepEqual(parseFilters({ documentNames: { allow: [], deny: [] } }), {});
    });

    const refusals: [input: unknown, message: string][] = [
      [{ maxPages: -1 }, 'filters.maxPages must be a whole number from 1 to 10000000000'],
      [{ maxPages: 0 }, 'filters.maxPages must be a whole number from 1 to 10000000000'],
      [{ maxPages: 1e16 }, 'filters.maxPages must be a whole number from 1 to 10000000000'],
      [{ maxPages: 2.5 }, 'filters.maxPages must be a whole number from 1 to 10000000000'],
      [{ maxPages: '10' }, 'filters.maxPages must be a whole number from 1 to 10000000000'],
      [{ maxCopies: 10_001 }, 'filters.maxCopies must be a whole number from 1 to 10000'],
      [{ maxCost: -5 }, 'filters.maxCost must be a whole number from 0 to 10000000000000'],
      [{ maxCost: Number.MAX_SAFE_INTEGER + 2 }, 'filters.maxCost must be a whole number from 0 to 10000000000000'],
      [{ duplicateWindowSeconds: 86_401 }, 'filters.duplicateWindowSeconds must be a whole number from 1 to 86400'],
      [{ colour: 'both' }, "filters.colour must be 'colourOnly' or 'greyscaleOnly'"],
      [{ sides: 'duplex' }, "filters.sides must be 'duplexOnly' or 'simplexOnly'"],
      [{ allowedPaperSizes: [] }, 'filters.allowedPaperSizes must name at least one size (leave it out to allow every size)'],
      [{ allowedPaperSizes: ['*'] }, 'filters.allowedPaperSizes.0 must be a paper size name such as A4'],
      [{ allowedPaperSizes: ['A4\u0007'] }, 'filters.allowedPaperSizes.0 must be a paper size name such as A4'],
      [{ documentNames: { deny: ['*.[ch'] } }, 'filters.documentNames.deny.0 "*.[ch" has a [ without its closing ]'],
      [{ documentNames: { deny: ['[z-a]'] } }, 'filters.documentNames.deny.0 "[z-a]" has a backwards range z-a'],
      [{ documentNames: { allow: ['end\\'] } }, 'filters.documentNames.allow.0 "end\\\\" ends with a lone \\ (write \\\\ for a backslash)'],
      [{ documentNames: { deny: [''] } }, 'filters.documentNames.deny.0 must not be empty'],
      [{ documentNames: { deny: ['x'.repeat(201)] } }, 'filters.documentNames.deny.0 must be at most 200 characters'],
      [{ documentNames: { deny: Array.from({ length: 51 }, (_, i) => `*.${i}`) } }, 'filters.documentNames.deny must have at most 50 patterns'],
      [{ documentNames: { deny: '*.exe' } }, 'filters.documentNames.deny must be a list of globs'],
      [{ documentNames: { block: ['*.exe'] } }, 'filters.documentNames has an unknown field "block"'],
      [{ maxPagez: 5 }, 'filters has an unknown field "maxPagez"'],
      [[], 'filters must be an object'],
      [null, 'filters must be an object'],
    ];
    for (const [input, message] of refusals) {
      it(`refuses ${JSON.stringify(input).slice(0, 70)}`, () => {
        assert.throws(
          () => parseFilters(input),
          (err: Error & { code?: string }) => {
            assert.equal(err.code, 'VALIDATION');
            assert.equal(err.message, message);
            return true;
          },
        );
      });
    }
  });

  describe('readStoredFilters()', () => {
    it('reads stored JSON, and answers undefined for text that is not valid filters', () => {
      assert.deepEqual(readStoredFilters('{}'), {});
      assert.deepEqual(readStoredFilters(''), {});
      assert.deepEqual(readStoredFilters('{"maxPages":10}'), { maxPages: 10 });
      assert.equal(readStoredFilters('{"maxPages":-1}'), undefined);
      assert.equal(readStoredFilters('{not json'), undefined);
    });
  });

  describe('globMatches()', () => {
    const cases: [glob: string, name: string, matches: boolean][] = [
      ['*.exe', 'setup.exe', true],
      ['*.exe', 'setup.exe.pdf', false],
      ['*.EXE', 'Setup.Exe', true],
      ['report?.pdf', 'report1.pdf', true],
      ['report?.pdf', 'report10.pdf', false],
      ['[abc]*', 'Bravo', true],
      ['[!abc]*', 'bravo', false],
      ['[a-c]x', 'Bx', true],
      ['[]]', ']', true],
      ['a\\*b', 'a*b', true],
      ['a\\*b', 'axb', false],
      ['**', '', true],
      ['*', 'anything at all', true],
      ['*secret*', 'My SECRET file', true],
      ['', '', true],
    ];
    for (const [g, name, matches] of cases) {
      it(`${JSON.stringify(g)} ${matches ? 'matches' : 'does not match'} ${JSON.stringify(name)}`, () => assert.equal(globMatches(g, name), matches));
    }

    it('stays fast on a pattern that makes backtracking regular expressions explode', () => {
      const started = process.hrtime.bigint();
      assert.equal(globMatches(`${'*a'.repeat(50)}*b`, 'a'.repeat(1024)), false);
      assert.ok(process.hrtime.bigint() - started < 200_000_000n, 'took 200 ms or more');
    });

    it('names what is wrong with a malformed glob', () => {
      assert.equal(globProblem('*.pdf'), undefined);
      assert.equal(globProblem('[abc'), 'has a [ without its closing ]');
      assert.equal(globProblem('[!'), 'has a [ without its closing ]');
    });
  });
});
