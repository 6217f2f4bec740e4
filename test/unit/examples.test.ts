/**
 * The configuration files in examples/ are what operators copy: each one loads through the same
 * validators a primary or secondary runs at start (zod, strict: an unknown key is refused), and
 * the topologies they describe hang together (which secondary reports to which primary, ports
 * and data directories that do not collide). A new example file must be listed here.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadPrimaryConfig, type PrimaryConfig } from '../../primary/config';
import { priceJob, validateRateCard } from '../../primary/pricing';
import { loadSecondaryConfig, type SecondaryConfig } from '../../secondary/config';

const EXAMPLES = path.resolve(__dirname, '../../examples');
/** Secondaries need a secret; the examples leave it out (it comes from the primary's cluster-secret file). */
const SECRET_ENV = { QUOTIENT_CLUSTER_SECRET: 'example-secret-0123456789' };

const PRIMARIES = ['primary.json', 'two-primaries/print-primary.json', 'two-primaries/net-primary.json', 'single-primary/primary.json'];
const SECONDARIES = [
  'two-primaries/print-secondary.json',
  'two-primaries/proxy-secondary.json',
  'single-primary/print-secondary.json',
  'single-primary/proxy-secondary.json',
];
/** Card files for `quotient rate-cards save`: every one must pass the validation the store runs. */
const RATE_CARDS = fs
  .readdirSync(path.join(EXAMPLES, 'rate-cards'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => `rate-cards/${f}`);

const primary = (file: string): PrimaryConfig => loadPrimaryConfig({ file: path.join(EXAMPLES, file), env: {} });
const secondary = (file: string): SecondaryConfig => loadSecondaryConfig({ file: path.join(EXAMPLES, file), env: SECRET_ENV });
const portOf = (address: string): number => Number(address.slice(address.lastIndexOf(':') + 1));

function jsonFiles(dir: string, prefix = ''): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) return jsonFiles(path.join(dir, e.name), rel);
    return e.name.endsWith('.json') ? [rel] : [];
  });
}

describe('examples/ configuration files', () => {
  it('are all covered by this test', () => {
    assert.deepEqual(jsonFiles(EXAMPLES).sort(), [...PRIMARIES, ...SECONDARIES, ...RATE_CARDS].sort());
  });

  describe('rate-cards/', () => {
    it('holds at least the university card', () => {
      assert.ok(RATE_CARDS.includes('rate-cards/university.json'));
    });

    for (const file of RATE_CARDS) {
      it(`${file} is a valid rate card`, () => {
        assert.doesNotThrow(() => validateRateCard(JSON.parse(fs.readFileSync(path.join(EXAMPLES, file), 'utf8'))));
      });
    }

    it('university.json prices as its README says: A4 grey duplex at 6 a page, A3 colour duplex at 70', () => {
      const card = validateRateCard(JSON.parse(fs.readFileSync(path.join(EXAMPLES, 'rate-cards/university.json'), 'utf8')));
      // 10 A4 grey pages duplex, 2 copies, stapled: 8 less 25 % = 6 a page; 2 x 60 + staple 5 + fee 2.
      assert.equal(priceJob(card, { pages: 10, colourPages: 0, copies: 2, duplex: true, paperSize: 'A4', finishings: ['staple'] }, 10_000).total, 127);
      // 4 A3 colour pages duplex, folded: its own duplex row 70; 4 x 70 + 2 sheets x fold 2 + fee 2.
      assert.equal(
        priceJob(card, { pages: 4, colourPages: 4, copies: 1, duplex: true, paperSize: 'iso_a3_297x420mm', finishings: ['fold'] }, 10_000).total,
        286,
      );
      // B5 has no row: the default colour row, 50, punched.
      assert.equal(priceJob(card, { pages: 1, colourPages: 1, copies: 1, duplex: false, paperSize: 'B5', finishings: ['punch'] }, 10_000).total, 55);
    });
  });

  for (const file of PRIMARIES) {
    it(`${file} loads as a primary configuration`, () => {
      assert.doesNotThrow(() => primary(file));
    });
  }

  for (const file of SECONDARIES) {
    it(`${file} loads as a secondary configuration`, () => {
      assert.doesNotThrow(() => secondary(file));
    });
  }

  describe('two-primaries/', () => {
    it('gives the print and net primaries their own data directory and ports, in one time zone', () => {
      const print = primary('two-primaries/print-primary.json');
      const net = primary('two-primaries/net-primary.json');
      assert.deepEqual([print.dataDir, print.httpPort, print.grpcPort], ['/var/lib/quotient-print', 9191, 9192]);
      assert.deepEqual([net.dataDir, net.httpPort, net.grpcPort], ['/var/lib/quotient-net', 9291, 9292]);
      assert.equal(print.timezone, net.timezone);
      // Each generates its own cluster secret into its data directory.
      assert.deepEqual([print.clusterSecret, net.clusterSecret], ['', '']);
    });

    it('binds the print secondary to the print primary and the proxy secondary to the net primary', () => {
      const printSecondary = secondary('two-primaries/print-secondary.json');
      const proxySecondary = secondary('two-primaries/proxy-secondary.json');
      assert.deepEqual([printSecondary.role, portOf(printSecondary.primary)], ['print', primary('two-primaries/print-primary.json').grpcPort]);
      assert.deepEqual([proxySecondary.role, portOf(proxySecondary.primary)], ['proxy', primary('two-primaries/net-primary.json').grpcPort]);
      assert.deepEqual(
        printSecondary.printers.map((p) => p.queue),
        ['lab'],
      );
      assert.equal(proxySecondary.proxyAccessLog, '/var/log/squid/quotient.log');
    });

    it('keeps a monthly period within the net primary catch-up window', () => {
      assert.ok(primary('two-primaries/net-primary.json').quotaCatchUpDays >= 31);
    });
  });

  describe('single-primary/', () => {
    it('sends both secondaries to the one primary (one shared balance)', () => {
      const only = primary('single-primary/primary.json');
      const printSecondary = secondary('single-primary/print-secondary.json');
      const proxySecondary = secondary('single-primary/proxy-secondary.json');
      assert.deepEqual([portOf(printSecondary.primary), portOf(proxySecondary.primary)], [only.grpcPort, only.grpcPort]);
      assert.deepEqual([printSecondary.role, proxySecondary.role], ['print', 'proxy']);
    });
  });
});
