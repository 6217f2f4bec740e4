/**
 * Documents the page analysis alone could not count, printed with `lp` through real CUPS, the
 * Quotient backend, a real secondary and primary (SQLite and MariaDB): an encrypted PDF whose page
 * tree sits in object streams and a PostScript program without DSC that loops over showpage are
 * charged their real pages (each was charged 1 before); a PDF nobody can open without its
 * password is held in CUPS for an administrator on a `hold` printer (the default), printed after
 * the administrator gives its page count (docs/print-secondary.md), and charged the printer's
 * maximum on a `charge-maximum` printer.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { balanceOf } from '../../utils/secondary';
import { makeDocument, useCupsFixture } from '../../utils/cups';
import { describeEndToEnd } from '../../utils/databases';
import { accountFor } from '../../utils/fixtures';
import { printRows as printRowsOf } from '../../utils/primary';

const SECONDARY = 'print-1';
const execFileAsync = promisify(execFile);

describeEndToEnd('documents the page analysis cannot count, through real CUPS', (t) => {
  const fx = useCupsFixture(t, {
    // "lab" keeps the default rule (hold); "capped" charges its max-pages filter, 40 pages.
    // "filtered" has a PostScript driver: CUPS's filters run and the backend reads their output on stdin.
    queues: ['lab', 'capped', { name: 'filtered', driver: 'postscript' }],
    requires: ['/usr/bin/socat', '/usr/bin/qpdf'],
    beforeSecondary: async (primary) => {
      await primary.services.printers.resolve(SECONDARY, 'lab');
      const capped = await primary.services.printers.resolve(SECONDARY, 'capped');
      await primary.services.printers.update(capped.id, { unknownPageCount: 'charge-maximum', filters: { maxPages: 40 } }, 'test');
    },
  });
  let encrypted: string;
  let locked: string;
  let looping: string;

  before(async function () {
    this.timeout(60_000);
    const plain = await makeDocument(fx.docs, 'pdf', 7);
    encrypted = path.join(fx.docs, 'encrypted-7.pdf');
    await execFileAsync('qpdf', ['--encrypt', '', 'owner-secret', '256', '--', '--object-streams=generate', plain, encrypted]);
    locked = path.join(fx.docs, 'locked-7.pdf');
    await execFileAsync('qpdf', ['--encrypt', 'user-secret', 'owner-secret', '256', '--', '--object-streams=generate', plain, locked]);
    looping = path.join(fx.docs, 'looping-5.ps');
    fs.writeFileSync(looping, '%!PS\n/Helvetica findfont 24 scalefont setfont\n/page { 72 720 moveto show showpage } def\n1 1 5 { pop (a page) page } for\n');
  });

  const done = ['completed', 'aborted', 'canceled'];

  const printRows = (username: string): Promise<[string, number][]> => printRowsOf(fx.primary, username);

  it('charges an encrypted PDF (AES-256, page tree in object streams) its 7 pages times the copies', async function () {
    this.timeout(60_000);
    await accountFor(fx.primary.services, { username: 'alice', restricted: true, initialCredit: 1000, creditLimit: 0 });
    const id = await fx.cups.lp(['-d', 'lab', '-U', 'alice', '-n', '2', '-t', 'secret.pdf', encrypted]);
    const job = await fx.cups.waitForJob(id, done);
    assert.equal(job.state, 'completed', fx.cups.jobLog(id));
    await fx.secondary.whenOutboxEmpty();
    assert.deepEqual(await printRows('alice'), [[`print:${job.uuid}`, -140]]); // 7 pages x 2 copies x 10
    assert.deepEqual(await balanceOf(fx.primary, 'alice'), [860, 0]);
    assert.match(fx.cups.jobLog(id), /7 page\(s\) x 2,.*\(pdf, pdf-page-tree\)/);
  });

  it('charges PostScript without DSC that calls showpage in a loop from its own procedure its 5 pages, counted by Ghostscript', async function () {
    this.timeout(60_000);
    await accountFor(fx.primary.services, { username: 'bob', restricted: true, initialCredit: 1000, creditLimit: 0 });
    const id = await fx.cups.lp(['-d', 'lab', '-U', 'bob', '-t', 'loop.ps', looping]);
    const job = await fx.cups.waitForJob(id, done);
    assert.equal(job.state, 'completed', fx.cups.jobLog(id));
    await fx.secondary.whenOutboxEmpty();
    assert.deepEqual(await printRows('bob'), [[`print:${job.uuid}`, -50]]);
    assert.match(fx.cups.jobLog(id), /5 page\(s\) x 1,.*\(postscript, ghostscript\)/);
  });

  it('counts the filtered output of such a program, read on stdin, with Ghostscript running as lp', async function () {
    this.timeout(60_000);
    await accountFor(fx.primary.services, { username: 'erin', restricted: true, initialCredit: 1000, creditLimit: 0 });
    const id = await fx.cups.lp(['-d', 'filtered', '-U', 'erin', '-o', 'print-color-mode=monochrome', '-t', 'loop.ps', looping]);
    const job = await fx.cups.waitForJob(id, done);
    assert.equal(job.state, 'completed', fx.cups.jobLog(id));
    await fx.secondary.whenOutboxEmpty();
    assert.deepEqual(await printRows('erin'), [[`print:${job.uuid}`, -50]]);
    assert.match(fx.cups.jobLog(id), /5 page\(s\) x 1,.*\(postscript, ghostscript\)/);
  });

  it('holds a document nothing can count for an administrator, charging nothing, then prints it for the pages the administrator gives', async function () {
    this.timeout(90_000);
    await accountFor(fx.primary.services, { username: 'carol', restricted: true, initialCredit: 1000, creditLimit: 0 });
    const id = await fx.cups.lp(['-d', 'lab', '-U', 'carol', '-t', 'locked.pdf', locked]);
    const held = await fx.cups.waitForJob(id, ['pending-held', ...done]);
    assert.equal(held.state, 'pending-held', fx.cups.jobLog(id));
    assert.equal(held.message, 'Job held by Quotient: Quotient cannot count the pages of this document; it is held for an administrator');
    assert.match(await fx.cups.lpstat(['-l', '-o', 'lab']), /Status: Job held by Quotient: Quotient cannot count the pages/);
    assert.deepEqual(await printRows('carol'), []);
    assert.deepEqual(await balanceOf(fx.primary, 'carol'), [1000, 0]);
    assert.equal(fx.sink.received.length, 0);
    assert.equal(((await t.db.knex('print_jobs').where({ job_uuid: held.uuid }).count({ n: '*' })) as { n: number | string }[])[0]?.n, 0);

    // docs/print-secondary.md: the administrator finds the job's UUID, gives its pages on the secondary's socket, and releases it.
    const { stdout: attributes } = await execFileAsync('ipptool', ['-tv', `ipp://${fx.cups.server}/jobs/${id}`, 'get-job-attributes.test']);
    const uuid = /job-uuid \(uri\) = (\S+)/.exec(attributes)?.[1];
    assert.equal(uuid, held.uuid);
    const { stdout } = await execFileAsync('sh', [
      '-c',
      `printf '%s\\n' '{"op":"set-pages","jobId":"${uuid}","pages":7}' | socat - UNIX-CONNECT:${fx.socketPath}`,
    ]);
    assert.equal(JSON.parse(stdout).ok, true, stdout);
    await execFileAsync('lp', ['-h', fx.cups.server, '-i', String(id), '-H', 'resume']);
    const printed = await fx.cups.waitForJob(id, done);
    assert.equal(printed.state, 'completed', fx.cups.jobLog(id));
    await fx.secondary.whenOutboxEmpty();
    assert.deepEqual(await printRows('carol'), [[`print:${held.uuid}`, -70]]);
    assert.equal(fx.sink.received.length, 1);
  });

  it('charges a document nothing can count as the printer maximum (40 pages) on a charge-maximum printer', async function () {
    this.timeout(60_000);
    await accountFor(fx.primary.services, { username: 'dan', restricted: true, initialCredit: 1000, creditLimit: 0 });
    const id = await fx.cups.lp(['-d', 'capped', '-U', 'dan', '-t', 'locked.pdf', locked]);
    const job = await fx.cups.waitForJob(id, done);
    assert.equal(job.state, 'completed', fx.cups.jobLog(id));
    await fx.secondary.whenOutboxEmpty();
    assert.deepEqual(await printRows('dan'), [[`print:${job.uuid}`, -400]]);
    assert.deepEqual(await balanceOf(fx.primary, 'dan'), [600, 0]);
  });
});
