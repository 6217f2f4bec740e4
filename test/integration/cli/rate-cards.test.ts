/**
 * `quotient rate-cards list|show|save|export` run in process (test/utils/cli.ts) on each dialect:
 * the card it stores prices jobs to the cent, export and save round-trip exactly, every save is
 * audited, and bad files are refused with exit 1, a message naming the field, and nothing changed.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { listAudit } from '../../../primary/audit/audit-log';
import { type JobDescription } from '../../../primary/printing/job-events';
import { describeOnEachDatabase } from '../../utils/databases';
import { servicesFor, jobDescription } from '../../utils/fixtures';
import { cliAgainst } from '../../utils/cli';
import { ROOT } from '../../utils/processes';

const UNIVERSITY = path.join(ROOT, 'examples/rate-cards/university.json');

const job = (overrides: Partial<JobDescription> = {}): JobDescription =>
  jobDescription({ queue: 'lab-laser', documentName: 'thesis.pdf', pages: 1, ...overrides });

describeOnEachDatabase('quotient rate-cards', (t) => {
  const { cli, ok, fails } = cliAgainst(t);
  const file = (name: string, content: unknown): string => {
    const p = path.join(t.dataDir, name);
    fs.writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
    return p;
  };

  it('saves the university example, shows it with formatted money, and a job on its printer costs exactly its prices', async () => {
    assert.match(await ok('rate-cards', 'list'), /^no rate cards$/m);
    assert.equal(await ok('rate-cards', 'save', 'University', UNIVERSITY), 'created rate card University (10 price row(s), 3 finishing option(s))\n');

    const show = await ok('rate-cards', 'show', 'University');
    assert.match(show, /^per-job fee {6}\$0\.02$/m);
    assert.match(show, /^duplex discount {2}25% off a simplex price used for a duplex page$/m);
    assert.match(show, /^PAPER SIZE {5}COLOUR {2}SIDES {4}PRICE PER PAGE$/m);
    assert.match(show, /^\* \(any other\) {2}grey {4}simplex {2}\$0\.10$/m);
    assert.match(show, /^A3 {13}colour {2}duplex {3}\$0\.70$/m);
    assert.match(show, /^staple {5}per job {4}\$0\.05$/m);
    assert.match(show, /^fold {7}per sheet {2}\$0\.02$/m);
    assert.match(await ok('rate-cards', 'list'), /^University {2}10 {10}3 {11}\$0\.02 {8}25%$/m);

    // New printers get the site's default rate card: make it this one, then print through it.
    await ok('settings', 'set', 'printing.defaultRateCard', 'University');
    const s = servicesFor(t.db);
    const ann = await s.users.createUser({ username: 'ann', initialCredit: 10_000, restricted: true });
    const cost = async (j: JobDescription): Promise<number> => {
      const outcome = await s.printing.submit({ kind: 'authorize', secondary: 'print-1', job: j });
      assert.equal(outcome.kind === 'authorized' && outcome.allowed, true, JSON.stringify(outcome));
      return outcome.kind === 'authorized' ? outcome.cost : -1;
    };
    // 10 A4 grey pages duplex, 2 copies, stapled: 8 less 25 % = 6 a page; 2 x 60 + staple 5 + fee 2.
    assert.equal(await cost(job({ pages: 10, copies: 2, duplex: true, finishings: ['staple'] })), 127);
    // 4 A3 colour pages duplex, folded: the A3 duplex row, 70; 4 x 70 + 2 sheets x fold 2 + fee 2.
    assert.equal(await cost(job({ pages: 4, colourPages: 4, duplex: true, paperSize: 'iso_a3_297x420mm', finishings: ['fold'] })), 286);
    // 3 Letter grey pages simplex, punched: 3 x 8 + punch 3 + fee 2.
    assert.equal(await cost(job({ pages: 3, paperSize: 'na_letter_8.5x11in', finishings: ['punch'] })), 29);
    const account = await s.users.personalAccount(ann.id);
    assert.deepEqual([account.balance, account.reserved], [10_000, 127 + 286 + 29]); // authorised: reserved, not yet charged

    const audit = await listAudit(t.db.knex, { targetType: 'rate_card', targetId: 'University' });
    assert.deepEqual(
      audit.map((a) => [a.action, a.actor.startsWith('cli:')]),
      [['rate_card.create', true]],
    );
  });

  it('exports a card that saves back exactly, and replacing a card is audited as an update', async () => {
    await ok('rate-cards', 'save', 'lab', UNIVERSITY);
    const exported = await ok('rate-cards', 'export', 'lab');
    assert.deepEqual(JSON.parse(exported), JSON.parse(fs.readFileSync(UNIVERSITY, 'utf8')));

    const edited = JSON.parse(exported) as { prices: { paperSize: string; colour: string; sides: string; pricePerPage: number }[]; perJobFee: number };
    const a4grey = edited.prices.find((p) => p.paperSize === 'A4' && p.colour === 'grey' && p.sides === 'simplex');
    assert.ok(a4grey);
    a4grey.pricePerPage = 7;
    edited.perJobFee = 0;
    assert.match(await ok('rate-cards', 'save', 'lab', file('lab.json', edited)), /^replaced rate card lab \(10 price row\(s\), 3 finishing option\(s\)\)$/m);
    const again = await ok('rate-cards', 'export', 'lab', '--output', path.join(t.dataDir, 'again.json'));
    assert.equal(again, '');
    assert.equal(fs.readFileSync(path.join(t.dataDir, 'again.json'), 'utf8'), `${JSON.stringify(edited, null, 2)}\n`);
    assert.equal(await ok('rate-cards', 'show', 'lab', '--json'), `${JSON.stringify(edited, null, 2)}\n`);

    const { card } = await servicesFor(t.db).rateCards.getByName('lab');
    assert.equal(card.prices.find((p) => p.paperSize === 'A4' && p.colour === 'grey')?.pricePerPage, 7);
    assert.equal(card.perJobFee, 0);
    const audit = (await listAudit(t.db.knex, { targetType: 'rate_card', targetId: 'lab' })).reverse();
    assert.deepEqual(
      audit.map((a) => a.action),
      ['rate_card.create', 'rate_card.update'],
    );
  });

  it('refuses bad card files with a message naming the field, exit 1, and changes nothing', async () => {
    await ok('rate-cards', 'save', 'lab', UNIVERSITY);
    const before = await ok('rate-cards', 'export', 'lab');
    const good = JSON.parse(before) as { prices: Record<string, unknown>[]; [k: string]: unknown };
    const withRow = (i: number, change: Record<string, unknown>): unknown => ({
      ...good,
      prices: good.prices.map((p, j) => (j === i ? { ...p, ...change } : p)),
    });

    await fails(/bad\.json is not valid JSON: /, 'rate-cards', 'save', 'lab', file('bad.json', '{ "prices": [ '));
    await fails(
      /prices\[2\]\.pricePerPage must not be negative; nothing was saved/,
      'rate-cards',
      'save',
      'lab',
      file('neg.json', withRow(2, { pricePerPage: -1 })),
    );
    await fails(
      /prices\[3\]\.pricePerPage must be an integer number of minor units/,
      'rate-cards',
      'save',
      'lab',
      file('dec.json', withRow(3, { pricePerPage: 0.4 })),
    );
    await fails(
      /prices\[3\]\.pricePerPage must be an integer number of minor units/,
      'rate-cards',
      'save',
      'lab',
      file('text.json', withRow(3, { pricePerPage: '0.40' })),
    );
    await fails(/prices\[4\]\.paperSize must be a paper size name/, 'rate-cards', 'save', 'lab', file('size.json', withRow(4, { paperSize: '' })));
    await fails(/prices\[4\]\.paperSize must be a paper size name/, 'rate-cards', 'save', 'lab', file('size2.json', withRow(4, { paperSize: 4 })));
    await fails(/prices\[1\]\.colour must be one of 'grey', 'colour'/, 'rate-cards', 'save', 'lab', file('colour.json', withRow(1, { colour: 'color' })));
    await fails(/prices\[9\] repeats prices\[8\] \(Letter, grey, simplex\)/, 'rate-cards', 'save', 'lab', file('dup.json', withRow(9, { colour: 'grey' })));
    await fails(/rate card has an unknown field "duplexDiscount"/, 'rate-cards', 'save', 'lab', file('field.json', { ...good, duplexDiscount: 10 }));
    await fails(
      /duplexDiscountBp must be a whole number from 0 to 10000/,
      'rate-cards',
      'save',
      'lab',
      file('disc.json', { ...good, duplexDiscountBp: 10_001 }),
    );
    await fails(/prices needs a default grey row/, 'rate-cards', 'save', 'lab', file('nodefault.json', { ...good, prices: good.prices.slice(1) }));
    await fails(/cannot read .*missing\.json: ENOENT/, 'rate-cards', 'save', 'lab', path.join(t.dataDir, 'missing.json'));
    await fails(/rate card not found: nothing/, 'rate-cards', 'show', 'nothing');
    await fails(/rate card not found: nothing/, 'rate-cards', 'export', 'nothing');
    await fails(/prices\[2\]\.pricePerPage must not be negative/, 'rate-cards', 'save', 'new-card', path.join(t.dataDir, 'neg.json'));

    assert.equal(await ok('rate-cards', 'export', 'lab'), before);
    assert.deepEqual(
      (await servicesFor(t.db).rateCards.list()).map((c) => c.name),
      ['lab'],
    );
    assert.equal((await listAudit(t.db.knex, { targetType: 'rate_card' })).length, 1);
  });

  it('explains each subcommand and the file format in --help', async () => {
    const help = await ok('rate-cards', '--help');
    for (const sub of ['list', 'show', 'save', 'export']) assert.match(help, new RegExp(`^ {2}${sub}\\b`, 'm'));
    const save = await ok('rate-cards', 'save', '--help');
    assert.match(save, /money in whole minor units/);
    assert.match(save, /"duplexDiscountBp": 2000/);
    assert.match(await ok('rate-cards', 'export', '--help'), /--output <file>/);
    assert.match(await ok('rate-cards', 'show', '--help'), /--json/);
    const r = await cli('rate-cards', 'save', 'lab');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /missing required argument 'file'/);
  });
});
