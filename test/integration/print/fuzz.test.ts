import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { analyseDocument } from '../../../secondary/print/analysis';
import { rng } from '../../utils/seeded-random';
import { dagPdf, gs, pdf, psProgram, qpdf } from '../../unit/print/documents';

type Mutation = 'bitflip' | 'truncate' | 'splice' | 'duplicate' | 'zero-run';
const MUTATIONS: Mutation[] = ['bitflip', 'truncate', 'splice', 'duplicate', 'zero-run'];

function mutate(doc: Buffer, other: Buffer, rand: () => number): { out: Buffer; kind: Mutation } {
  const kind = MUTATIONS[Math.floor(rand() * MUTATIONS.length)] as Mutation;
  const at = (len: number): number => Math.floor(rand() * Math.max(1, len));
  switch (kind) {
    case 'bitflip': {
      const out = Buffer.from(doc);
      const flips = 1 + Math.floor(rand() * 16);
      for (let i = 0; i < flips; i++) {
        const p = at(out.length);
        out[p] = (out[p] ?? 0) ^ (1 << Math.floor(rand() * 8));
      }
      return { out, kind };
    }
    case 'truncate':
      return { out: doc.subarray(0, at(doc.length)), kind };
    case 'splice': {
      const from = at(other.length);
      const piece = other.subarray(from, from + 1 + at(4096));
      const p = at(doc.length);
      return { out: Buffer.concat([doc.subarray(0, p), piece, doc.subarray(p + at(256))]), kind };
    }
    case 'duplicate': {
      const p = at(doc.length);
      const piece = doc.subarray(p, p + 1 + at(8192));
      return { out: Buffer.concat([doc.subarray(0, p), piece, piece, doc.subarray(p)]), kind };
    }
    case 'zero-run': {
      const out = Buffer.from(doc);
      const p = at(out.length);
      out.fill(Math.floor(rand() * 256), p, Math.min(out.length, p + 1 + at(512)));
      return { out, kind };
    }
  }
}

describe('analyseDocument() under fuzzing', function () {
  this.timeout(120_000);

  it('never throws, stays within its time budget and never counts 0 pages for a mutated document', async () => {
    const fixtures: [name: string, doc: Buffer, share?: number][] = [
      ['pdf', readFileSync(pdf(3))],
      ['pdf-objstm', readFileSync(qpdf('p3-objstm.pdf', ['--object-streams=generate', pdf(3)]))],
      ['ps', readFileSync(gs('f3.ps', psProgram(3, { dsc: true }), 'ps2write'))],
      ['ps-plain', Buffer.from(psProgram(3, { dsc: true, prolog: '<< /NumCopies 2 >> setpagedevice' }))],
      ['pwg', readFileSync(gs('t3.pwg', psProgram(3), 'pwgraster', ['-r30']))],
      ['urf', readFileSync(gs('t3.urf', psProgram(3), 'urf', ['-r30']))],
      ['pcl5', readFileSync(gs('t3.pcl', psProgram(3), 'ljet4', ['-r75']))],
      ['pclxl', readFileSync(gs('t3.pxl', psProgram(3), 'pxlmono', ['-r75']))],
      // Page trees that are DAGs (a node naming its child twice, or a page a thousand times):
      // mutations make them deeper, wider, cyclic or broken.
      // Many of these run to the time budget, so they get fewer iterations.
      ['pdf-dag', dagPdf(2, 64), 0.1],
      ['pdf-fan-out', dagPdf(1000, 2), 0.1],
      ['text', Buffer.from(Array.from({ length: 200 }, (_, i) => `line ${i}${i % 70 === 69 ? '\f' : ''}`).join('\n'))],
    ];
    const seed = Number(process.env.QUOTIENT_FUZZ_SEED ?? 20261122);
    // A few hundred mutations in `npm test`; `npm run test:fuzz` runs a thousand per fixture.
    const perFixture = Number(process.env.QUOTIENT_FUZZ_ITERATIONS ?? 40);
    const budgetMs = 250;
    const rand = rng(seed);
    const stats = { runs: 0, fallback: 0, slowest: 0 };
    const started = Date.now();
    let expected = 0;
    for (const [name, doc, share = 1] of fixtures) {
      const iterations = Math.ceil(perFixture * share);
      expected += iterations;
      for (let i = 0; i < iterations; i++) {
        const other = fixtures[Math.floor(rand() * fixtures.length)]?.[1] ?? doc;
        const { out, kind } = mutate(doc, other, rand);
        const what = `${name} #${i} (${kind}, seed ${seed})`;
        const t0 = Date.now();
        const r = await analyseDocument(out, { timeBudgetMs: budgetMs });
        const ms = Date.now() - t0;
        stats.slowest = Math.max(stats.slowest, ms);
        assert.ok(ms < budgetMs + 500, `${what}: took ${ms} ms`);
        if (out.length > 0) assert.ok(Number.isInteger(r.pages) && r.pages >= 1, `${what}: ${r.pages} pages`);
        assert.ok(r.copiesInDocument >= 1 && r.copiesInDocument <= 9999, `${what}: copies ${r.copiesInDocument}`);
        if (r.fallback) stats.fallback++;
        stats.runs++;
      }
    }
    assert.equal(stats.runs, expected);
    console.log(`      fuzz: ${stats.runs} mutations in ${Date.now() - started} ms, ${stats.fallback} fell back, slowest ${stats.slowest} ms (seed ${seed})`);
  });
});
