/**
 * `quotient cards generate|import|list|show|disable|enable` run in process on each dialect: a generated
 * batch's numbers go to a file only its owner reads, which is never overwritten without --force;
 * an import writes all of its rows or none and names each broken row by its line; bad amounts,
 * dates and counts are refused with exit 1 and nothing written.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { dammDigit } from '../../../primary/cards/card-number';
import { cliAgainst } from '../../utils/cli';
import { describeOnEachDatabase } from '../../utils/databases';
import { servicesFor } from '../../utils/fixtures';

const number = (n: number): string => {
  const digits = String(2_000_000_000_000_000_000n + BigInt(n)).slice(0, 19);
  return digits + String(dammDigit(digits));
};

describeOnEachDatabase('quotient cards', (t) => {
  const { ok, fails } = cliAgainst(t);
  const file = (name: string): string => path.join(t.dataDir, name);
  const batchCount = async (): Promise<number> => Number(((await t.db.knex('topup_card_batches').count({ n: '*' })) as { n: number }[])[0]?.n);

  afterEach(() => {
    for (const f of fs.readdirSync(t.dataDir)) if (f.endsWith('.csv')) fs.rmSync(file(f));
  });

  it('generates a batch into a 0600 CSV file, lists it with counts, and shows who redeemed which card', async () => {
    const out = file('spring.csv');
    assert.equal(
      await ok('cards', 'generate', '--batch', 'Spring 2027', '--count', '3', '--value', '10.00', '--expires', '2099-06-30', '--out', out),
      `generated 3 card(s) worth $10.00 each in batch Spring 2027, valid through 2099-06-30: ${out}\n`,
    );
    assert.equal(fs.statSync(out).mode & 0o777, 0o600);
    const [header, ...rows] = fs.readFileSync(out, 'utf8').trimEnd().split('\n');
    assert.equal(header, 'number,batch,value,expires');
    assert.equal(rows.length, 3);
    for (const row of rows) assert.match(row, /^\d{5}-\d{5}-\d{5}-\d{5},Spring 2027,10\.00,2099-06-30$/);

    const s = servicesFor(t.db);
    const ann = await s.users.createUser({ username: 'ann' });
    const redeemed = await s.cards.redeem({ userId: ann.id, number: rows[1]!.split(',')[0]! });
    assert.ok(redeemed.redeemed);

    assert.equal(
      await ok('cards', 'list'),
      [
        'BATCH        VALUE   EXPIRES     CARDS  USED  UNUSED  EXPIRED  STATE',
        'Spring 2027  $10.00  2099-06-30  3      1     2       0        active',
        '',
      ].join('\n'),
    );
    const show = await ok('cards', 'show', 'Spring 2027');
    assert.match(show, /^cards {6}3: 1 used, 2 unused, 0 expired$/m);
    const lines = show.split('\n').filter((l) => /^\d{5}-/.test(l));
    assert.equal(lines.length, 3);
    assert.match(lines[1]!, new RegExp(`^${rows[1]!.split(',')[0]!} {2}redeemed {2}ann {10}\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z {2}${redeemed.entry.id}$`));
    assert.match(lines[0]!, /^\d{5}-\d{5}-\d{5}-\d{5} {2}unused$/);

    assert.equal(await ok('cards', 'disable', 'Spring 2027'), 'disabled batch Spring 2027\n');
    assert.equal(await ok('cards', 'disable', 'Spring 2027'), 'batch Spring 2027 was already disabled; nothing changed\n');
    assert.match(await ok('cards', 'list'), / disabled$/m);
    assert.deepEqual(await s.cards.redeem({ userId: ann.id, number: rows[2]!.split(',')[0]! }), { redeemed: false, reason: 'disabled' });

    assert.equal(await ok('cards', 'enable', 'Spring 2027'), 'enabled batch Spring 2027\n');
    assert.equal(await ok('cards', 'enable', 'Spring 2027'), 'batch Spring 2027 was already enabled; nothing changed\n');
    assert.match(await ok('cards', 'list'), /^Spring 2027 .* active$/m);
    assert.equal((await s.cards.redeem({ userId: ann.id, number: rows[2]!.split(',')[0]! })).redeemed, true);
    const switches = await t.db.knex('audit_log').whereIn('action', ['card_batch.disable', 'card_batch.enable']).orderBy('id').select('action', 'target_id');
    assert.deepEqual(
      switches.map((r: { action: string; target_id: string }) => [r.action, r.target_id]),
      [
        ['card_batch.disable', 'Spring 2027'],
        ['card_batch.enable', 'Spring 2027'],
      ],
    );
  });

  it('refuses to overwrite a file without --force, and with it writes the file readable by its owner only', async () => {
    const out = file('taken.csv');
    fs.writeFileSync(out, 'precious\n', { mode: 0o644 });
    await fails(
      /taken\.csv exists; choose another file or add --force/,
      'cards',
      'generate',
      '--batch',
      'a',
      '--count',
      '1',
      '--value',
      '1',
      '--expires',
      '2099-01-01',
      '--out',
      out,
    );
    assert.equal(fs.readFileSync(out, 'utf8'), 'precious\n');
    assert.equal(await batchCount(), 0);
    await ok('cards', 'generate', '--batch', 'a', '--count', '2', '--value', '1', '--expires', '2099-01-01', '--out', out, '--force');
    assert.equal(fs.statSync(out).mode & 0o777, 0o600);
    assert.equal(fs.readFileSync(out, 'utf8').trimEnd().split('\n').length, 3);
  });

  it('refuses bad values, dates and counts, leaving neither a batch nor a file', async () => {
    const out = file('bad.csv');
    const generate = (...over: string[]): string[] => {
      const flags: Record<string, string> = { '--batch': 'b', '--count': '5', '--value': '2.50', '--expires': '2099-01-01', '--out': out };
      for (let i = 0; i < over.length; i += 2) flags[over[i]!] = over[i + 1]!;
      return ['cards', 'generate', ...Object.entries(flags).flat()];
    };
    await fails(/value has more than 2 decimal places: 2\.505/, ...generate('--value', '2.505'));
    await fails(/value must be greater than zero/, ...generate('--value', '0'));
    await fails(/value is not a number/, ...generate('--value', 'ten'));
    await fails(/expiry 2020-01-01 is in the past/, ...generate('--expires', '2020-01-01'));
    await fails(/expiry must be a date as YYYY-MM-DD: 2099-02-30/, ...generate('--expires', '2099-02-30'));
    await fails(/count must be a whole number from 1 to 10000/, ...generate('--count', '0'));
    await fails(/count must be a whole number from 1 to 10000/, ...generate('--count', '10001'));
    await fails(/count must be a whole number from 1 to 10000: 1e9/, ...generate('--count', '1e9'));
    await fails(/count must be a whole number from 1 to 10000: -3/, ...generate('--count', '-3'));
    await fails(/a batch name is 1 to 128 printable characters/, ...generate('--batch', 'x'.repeat(129)));
    assert.equal(fs.existsSync(out), false);
    assert.equal(await batchCount(), 0);
    await ok(...generate());
    await fails(/card batch already exists: b/, ...generate('--out', file('again.csv')));
    assert.equal(fs.existsSync(file('again.csv')), false);
  });

  it('imports a CSV file all or nothing, names each broken row by its line, and has a dry run', async () => {
    const csv = file('vendor.csv');
    const flags = ['--batch', 'vendor', '--value', '5', '--expires', '2099-12-31'];
    fs.writeFileSync(
      csv,
      ['serial,Number', `1,${number(1)}`, `2,"${number(2).replace(/(\d{5})(?=\d)/g, '$1 ')}"`, `3,`, `4,12"34`, `5,${number(1)}`, `6,"unclosed`, ''].join('\n'),
    );
    const r = await cliAgainst(t).cli('cards', 'import', csv, ...flags);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      [
        'line 5: malformed CSV: a quote inside an unquoted field (quote the whole field and double the quote)',
        'line 7: malformed CSV: a quoted field is never closed',
        `error: nothing imported: 2 problem(s) in ${csv}`,
        '',
      ].join('\n'),
    );

    fs.writeFileSync(csv, ['number', number(1), number(2), '', 'short', number(1), 'x-y-z-w-v-u-t', ''].join('\n'));
    const rows = await cliAgainst(t).cli('cards', 'import', csv, ...flags);
    assert.equal(rows.code, 1);
    assert.equal(
      rows.stderr,
      [
        'line 5: not a card number: 6 to 32 digits or letters (spaces and dashes are ignored)',
        'line 6: the same number as line 2',
        `error: nothing imported: 2 problem(s) in ${csv}`,
        '',
      ].join('\n'),
    );
    assert.equal(await batchCount(), 0);

    fs.writeFileSync(csv, ['number', number(1), number(2), 'x-y-z-w-v-u-t', ''].join('\n'));
    assert.equal(
      await ok('cards', 'import', csv, ...flags, '--dry-run'),
      'dry run: would import 3 card(s) worth $5.00 each into batch vendor, valid through 2099-12-31; nothing written\n',
    );
    assert.equal(await batchCount(), 0);
    assert.equal(await ok('cards', 'import', csv, ...flags), 'imported 3 card(s) worth $5.00 each into batch vendor, valid through 2099-12-31\n');
    await fails(/line 2: already a card, in batch vendor\n/, 'cards', 'import', csv, '--batch', 'again', '--value', '5', '--expires', '2099-12-31');
    fs.writeFileSync(csv, 'card\n123456\n');
    await fails(/has no "number" column in its header \(line 1\)/, 'cards', 'import', csv, ...flags);
    await fails(/value has more than 2 decimal places/, 'cards', 'import', csv, '--batch', 'z', '--value', '0.001', '--expires', '2099-12-31');
  });
});
