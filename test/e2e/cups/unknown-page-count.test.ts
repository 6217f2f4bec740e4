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
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { RunningPrimary } from '../../../primary/boot';
import type { RunningSecondary } from '../../../secondary/daemon';
import { balanceOf, startTestSecondary } from '../../integration/secondary/harness';
import { cupsUnavailable, makeDocument, startPrivateCups, startTestSink, type PrivateCups, type TestSink } from '../../utils/cups';
import { describeEndToEnd } from '../../utils/databases';
import { accountFor } from '../../utils/fixtures';
import { sharedPrimary, printRows as printRowsOf } from '../../utils/primary';

const SECONDARY = 'print-1';
const execFileAsync = promisify(execFile);

describeEndToEnd('documents the page analysis cannot count, through real CUPS', (t) => {
  let cups: PrivateCups;
  let sink: TestSink;
  let primary: RunningPrimary;
  let secondary: RunningSecondary;
  let secondaryDir: string;
  let socketPath: string;
  let docs: string;
  let encrypted: string;
  let locked: string;
  let looping: string;

  before(async function () {
    const why = cupsUnavailable() ?? ['/usr/bin/socat', '/usr/bin/qpdf', '/usr/bin/gs'].find((p) => !fs.existsSync(p)) ?? undefined;
    if (why !== undefined) {
      if (process.env.CI === 'true') throw new Error(`CUPS, socat, qpdf and Ghostscript are required under CI: ${why}`);
      console.log(`      (CUPS tests skipped: missing ${why})`);
      this.skip();
    }
    this.timeout(60_000);
    secondaryDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qsec-'));
    fs.chmodSync(secondaryDir, 0o755);
    socketPath = path.join(secondaryDir, 'quotient.sock');
    docs = fs.mkdtempSync(path.join(os.tmpdir(), 'qdocs-'));
    fs.chmodSync(docs, 0o755);
    cups = await startPrivateCups({ env: { QUOTIENT_SOCKET: socketPath } });
    sink = await startTestSink();
    const plain = await makeDocument(docs, 'pdf', 7);
    encrypted = path.join(docs, 'encrypted-7.pdf');
    await execFileAsync('qpdf', ['--encrypt', '', 'owner-secret', '256', '--', '--object-streams=generate', plain, encrypted]);
    locked = path.join(docs, 'locked-7.pdf');
    await execFileAsync('qpdf', ['--encrypt', 'user-secret', 'owner-secret', '256', '--', '--object-streams=generate', plain, locked]);
    looping = path.join(docs, 'looping-5.ps');
    fs.writeFileSync(looping, '%!PS\n/Helvetica findfont 24 scalefont setfont\n/page { 72 720 moveto show showpage } def\n1 1 5 { pop (a page) page } for\n');
  });

  const shared = sharedPrimary(t);

  after(async () => {
    await sink?.close();
    await cups?.stop();
    if (secondaryDir) fs.rmSync(secondaryDir, { recursive: true, force: true });
    if (docs) fs.rmSync(docs, { recursive: true, force: true });
  });

  beforeEach(async function () {
    this.timeout(60_000);
    primary = shared.primary;
    // "lab" keeps the default rule (hold); "capped" charges its max-pages filter, 40 pages.
    await primary.services.printers.resolve(SECONDARY, 'lab');
    const capped = await primary.services.printers.resolve(SECONDARY, 'capped');
    await primary.services.printers.update(capped.id, { unknownPageCount: 'charge-maximum', filters: { maxPages: 40 } }, 'test');
    secondary = await startTestSecondary(primary.grpcPort, fs.mkdtempSync(path.join(secondaryDir, 'd')), {
      queues: ['lab', 'capped', 'filtered'],
      flags: { socketPath },
    });
    await secondary.whenSynced();
    sink.received.length = 0;
    sink.mode = 'accept';
    for (const q of ['lab', 'capped', 'filtered']) {
      // "filtered" has a PostScript driver: CUPS's filters run and the backend reads their output on stdin.
      const model = q === 'filtered' ? ['-m', 'drv:///sample.drv/generic.ppd'] : ['-m', 'raw'];
      await cups.lpadmin(['-p', q, '-E', '-v', `quotient:socket://127.0.0.1:${sink.port}`, ...model, '-o', 'printer-error-policy=abort-job']);
    }
  });

  afterEach(async () => {
    await cups.cancelAll();
    await secondary.shutdown();
  });

  const done = ['completed', 'aborted', 'canceled'];

  const printRows = (username: string): Promise<[string, number][]> => printRowsOf(primary, username);

  it('charges an encrypted PDF (AES-256, page tree in object streams) its 7 pages times the copies', async function () {
    this.timeout(60_000);
    await accountFor(primary.services, { username: 'alice', restricted: true, initialCredit: 1000, creditLimit: 0 });
    const id = await cups.lp(['-d', 'lab', '-U', 'alice', '-n', '2', '-t', 'secret.pdf', encrypted]);
    const job = await cups.waitForJob(id, done);
    assert.equal(job.state, 'completed', cups.jobLog(id));
    await secondary.whenOutboxEmpty();
    assert.deepEqual(await printRows('alice'), [[`print:${job.uuid}`, -140]]); // 7 pages x 2 copies x 10
    assert.deepEqual(await balanceOf(primary, 'alice'), [860, 0]);
    assert.match(cups.jobLog(id), /7 page\(s\) x 2,.*\(pdf, pdf-page-tree\)/);
  });

  it('charges PostScript without DSC that calls showpage in a loop from its own procedure its 5 pages, counted by Ghostscript', async function () {
    this.timeout(60_000);
    await accountFor(primary.services, { username: 'bob', restricted: true, initialCredit: 1000, creditLimit: 0 });
    const id = await cups.lp(['-d', 'lab', '-U', 'bob', '-t', 'loop.ps', looping]);
    const job = await cups.waitForJob(id, done);
    assert.equal(job.state, 'completed', cups.jobLog(id));
    await secondary.whenOutboxEmpty();
    assert.deepEqual(await printRows('bob'), [[`print:${job.uuid}`, -50]]);
    assert.match(cups.jobLog(id), /5 page\(s\) x 1,.*\(postscript, ghostscript\)/);
  });

  it('counts the filtered output of such a program, read on stdin, with Ghostscript running as lp', async function () {
    this.timeout(60_000);
    await accountFor(primary.services, { username: 'erin', restricted: true, initialCredit: 1000, creditLimit: 0 });
    const id = await cups.lp(['-d', 'filtered', '-U', 'erin', '-o', 'print-color-mode=monochrome', '-t', 'loop.ps', looping]);
    const job = await cups.waitForJob(id, done);
    assert.equal(job.state, 'completed', cups.jobLog(id));
    await secondary.whenOutboxEmpty();
    assert.deepEqual(await printRows('erin'), [[`print:${job.uuid}`, -50]]);
    assert.match(cups.jobLog(id), /5 page\(s\) x 1,.*\(postscript, ghostscript\)/);
  });

  it('holds a document nothing can count for an administrator, charging nothing, then prints it for the pages the administrator gives', async function () {
    this.timeout(90_000);
    await accountFor(primary.services, { username: 'carol', restricted: true, initialCredit: 1000, creditLimit: 0 });
    const id = await cups.lp(['-d', 'lab', '-U', 'carol', '-t', 'locked.pdf', locked]);
    const held = await cups.waitForJob(id, ['pending-held', ...done]);
    assert.equal(held.state, 'pending-held', cups.jobLog(id));
    assert.equal(held.message, 'Job held by Quotient: Quotient cannot count the pages of this document; it is held for an administrator');
    assert.match(await cups.lpstat(['-l', '-o', 'lab']), /Status: Job held by Quotient: Quotient cannot count the pages/);
    assert.deepEqual(await printRows('carol'), []);
    assert.deepEqual(await balanceOf(primary, 'carol'), [1000, 0]);
    assert.equal(sink.received.length, 0);
    assert.equal(((await t.db.knex('print_jobs').where({ job_uuid: held.uuid }).count({ n: '*' })) as { n: number | string }[])[0]?.n, 0);

    // docs/print-secondary.md: the administrator finds the job's UUID, gives its pages on the secondary's socket, and releases it.
    const { stdout: attributes } = await execFileAsync('ipptool', ['-tv', `ipp://${cups.server}/jobs/${id}`, 'get-job-attributes.test']);
    const uuid = /job-uuid \(uri\) = (\S+)/.exec(attributes)?.[1];
    assert.equal(uuid, held.uuid);
    const { stdout } = await execFileAsync('sh', [
      '-c',
      `printf '%s\\n' '{"op":"set-pages","jobId":"${uuid}","pages":7}' | socat - UNIX-CONNECT:${socketPath}`,
    ]);
    assert.equal(JSON.parse(stdout).ok, true, stdout);
    await execFileAsync('lp', ['-h', cups.server, '-i', String(id), '-H', 'resume']);
    const printed = await cups.waitForJob(id, done);
    assert.equal(printed.state, 'completed', cups.jobLog(id));
    await secondary.whenOutboxEmpty();
    assert.deepEqual(await printRows('carol'), [[`print:${held.uuid}`, -70]]);
    assert.equal(sink.received.length, 1);
  });

  it('charges a document nothing can count as the printer maximum (40 pages) on a charge-maximum printer', async function () {
    this.timeout(60_000);
    await accountFor(primary.services, { username: 'dan', restricted: true, initialCredit: 1000, creditLimit: 0 });
    const id = await cups.lp(['-d', 'capped', '-U', 'dan', '-t', 'locked.pdf', locked]);
    const job = await cups.waitForJob(id, done);
    assert.equal(job.state, 'completed', cups.jobLog(id));
    await secondary.whenOutboxEmpty();
    assert.deepEqual(await printRows('dan'), [[`print:${job.uuid}`, -400]]);
    assert.deepEqual(await balanceOf(primary, 'dan'), [600, 0]);
  });
});
