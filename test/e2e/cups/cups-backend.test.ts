/**
 * Real CUPS in front of Quotient: a private cupsd (test/utils/cups.ts) whose queues print through
 * the Quotient backend (`quotient:socket://127.0.0.1:<sink>`) to a test sink, a real secondary and
 * a real primary. `lp` submits PDF, PostScript and text jobs as different users, with copies,
 * duplex and colour; the tests assert the exact charges and ledger rows, what reached the sink,
 * what `lpstat` shows a refused user, and the failure modes while the primary is down. The backend
 * is installed with the real `quotient install-cups-backend`, and one queue prints over IPP to
 * CUPS's reference printer (ippeveprinter): docs/print-secondary.md's commands, run.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { balanceOf, jobsOnPrimary, setFailureModes } from '../../utils/secondary';
import { freePort, installBuiltBackend, makeDocument, useCupsFixture } from '../../utils/cups';
import { describeEndToEnd } from '../../utils/databases';
import { accountFor } from '../../utils/fixtures';
import { printRows as printRowsOf } from '../../utils/primary';
import { runCliInProcess } from '../../utils/cli';

const SECONDARY = 'print-1';
const execFileAsync = promisify(execFile);

describeEndToEnd('CUPS backend wrapper with real CUPS', (t) => {
  const fx = useCupsFixture(t, {
    queues: [
      'raw',
      { name: 'ps', driver: 'postscript' },
      'later',
      'denied',
      'held',
      'free',
      // "broken": nothing listens there; the socket backend gives up after its contimeout (about 5 s).
      { name: 'broken', device: async () => `quotient:socket://127.0.0.1:${await freePort()}/?contimeout=1` },
      { name: 'ipp', device: ({ ippPrinter }) => `quotient:${ippPrinter.uri}` },
    ],
    requires: ['/usr/bin/socat'],
    installBackend: false,
    ippPrinter: { countImpressions: true },
    beforeSecondary: (primary) =>
      setFailureModes(primary, t, SECONDARY, {
        raw: 'charge_later',
        ps: 'charge_later',
        later: 'charge_later',
        denied: 'deny',
        held: 'hold',
        free: 'free',
        broken: 'charge_later',
        ipp: 'charge_later',
      }),
  });

  before(async function () {
    this.timeout(60_000);
    const { cups } = fx;
    // docs/print-secondary.md §2: the real command, then CUPS's discovery lists the backend.
    const installed = await runCliInProcess(['install-cups-backend', '--backend-dir', cups.backendDir, '--from-source']);
    const shim = path.join(cups.backendDir, 'quotient');
    assert.equal(installed.code, 0, installed.stderr);
    assert.equal(
      installed.stdout,
      `Installed ${shim} (mode 0700). Point a queue at it: lpadmin -p QUEUE -v 'quotient:socket://printer:9100' -o printer-error-policy=abort-job\n`,
    );
    const stat = fs.statSync(shim);
    assert.deepEqual([stat.mode & 0o7777, stat.uid], [0o700, 0]);
    const { stdout: devices } = await execFileAsync('lpinfo', ['-h', cups.server, '--include-schemes', 'quotient', '-v']);
    assert.equal(devices, 'network quotient\n');
    // The jobs run the backend built once for this run, not the source through tsx per job.
    installBuiltBackend(cups.backendDir);
  });

  const done = ['completed', 'aborted', 'canceled'];

  const printRows = (username: string): Promise<[string, number][]> => printRowsOf(fx.primary, username);

  async function reservationState(jobUuid: string): Promise<string | undefined> {
    const row = (await t.db
      .knex('reservations')
      .where({ idempotency_key: `print:${jobUuid}` })
      .first('state')) as { state: string } | undefined;
    return row?.state;
  }

  it('charges a raw PDF job its pages times the copies argument, under the job UUID', async function () {
    this.timeout(60_000);
    await accountFor(fx.primary.services, { username: 'alice', restricted: true, initialCredit: 1000, creditLimit: 0 });
    const pdf = await makeDocument(fx.docs, 'pdf', 3);
    const id = await fx.cups.lp(['-d', 'raw', '-U', 'alice', '-n', '2', '-t', 'report.pdf', pdf]);
    const job = await fx.cups.waitForJob(id, done);
    assert.equal(job.state, 'completed', fx.cups.jobLog(id));
    await fx.secondary.whenOutboxEmpty();
    assert.deepEqual(await balanceOf(fx.primary, 'alice'), [940, 0]); // 3 pages x 2 copies x 10
    assert.deepEqual(await printRows('alice'), [[`print:${job.uuid}`, -60]]);
    // The socket backend sends the file once per copy, over one connection.
    assert.equal(fx.sink.received.length, 1);
    assert.equal(fx.sink.received[0]?.toString('latin1').match(/%PDF-/g)?.length, 2);
  });

  it('prints through the ipp backend to an IPP printer and charges the pages it counted', async function () {
    this.timeout(60_000);
    await accountFor(fx.primary.services, { username: 'alice', restricted: true, initialCredit: 1000, creditLimit: 0 });
    const pdf = await makeDocument(fx.docs, 'pdf', 3);
    assert.equal(await fx.cups.lpstat(['-v', 'ipp']), `device for ipp: quotient:${fx.ippPrinter.uri}\n`);
    const printedBefore = fx.ippPrinter.jobs.length;
    const id = await fx.cups.lp(['-d', 'ipp', '-U', 'alice', '-n', '2', '-t', 'report.pdf', pdf]);
    const job = await fx.cups.waitForJob(id, done);
    assert.equal(job.state, 'completed', fx.cups.jobLog(id));
    const printed = (await fx.ippPrinter.waitForJobs(printedBefore + 1)).slice(printedBefore);
    assert.equal(printed.length, 1);
    assert.equal(printed[0]?.format, 'application/pdf');
    assert.ok(fs.readFileSync(printed[0]?.file ?? '').equals(fs.readFileSync(pdf)), 'the printer spooled the document as submitted');
    // the ipp backend reads the printer's job-impressions-completed
    assert.match(fx.cups.jobLog(id), /PAGE: total 6$/m);
    await fx.secondary.whenOutboxEmpty();
    assert.deepEqual(await balanceOf(fx.primary, 'alice'), [940, 0]); // 3 pages x 2 copies x 10
    assert.deepEqual(await printRows('alice'), [[`print:${job.uuid}`, -60]]);
    assert.equal(fx.sink.received.length, 0);
  });

  it('answers status on its socket, registered with the primary', async () => {
    // docs/print-secondary.md §1: printf '{"op":"status"}\n' | socat - UNIX-CONNECT:…/quotient.sock
    const { stdout } = await execFileAsync('sh', ['-c', `printf '{"op":"status"}\\n' | socat - UNIX-CONNECT:${fx.socketPath}`]);
    const status = JSON.parse(stdout) as { ok: boolean; name: string; role: string; registered: boolean };
    assert.deepEqual([status.ok, status.name, status.role, status.registered], [true, SECONDARY, 'print', true]);
  });

  it('charges PostScript in colour and duplex, and text, to each user who printed', async function () {
    this.timeout(60_000);
    await accountFor(fx.primary.services, { username: 'bob', restricted: false });
    await accountFor(fx.primary.services, { username: 'carol', restricted: true, initialCredit: 500, creditLimit: 0 });
    const ps = await makeDocument(fx.docs, 'ps', 2, { colour: true });
    const text = path.join(fx.docs, 'note.txt');
    fs.writeFileSync(text, 'one\ntwo\nthree\n');
    const colour = await fx.cups.lp([
      '-d',
      'raw',
      '-U',
      'bob',
      '-o',
      'sides=two-sided-long-edge',
      '-o',
      'print-color-mode=color',
      '-o',
      'media=iso_a4_210x297mm',
      ps,
    ]);
    const plain = await fx.cups.lp(['-d', 'raw', '-U', 'carol', '-o', 'media=A4', text]);
    for (const id of [colour, plain]) assert.equal((await fx.cups.waitForJob(id, done)).state, 'completed', fx.cups.jobLog(id));
    await fx.secondary.whenOutboxEmpty();
    assert.deepEqual(await balanceOf(fx.primary, 'bob'), [-100, 0]); // 2 colour pages x 50 (the default card has no duplex discount)
    assert.deepEqual(await balanceOf(fx.primary, 'carol'), [490, 0]); // 1 text page x 10
    const recorded = (await t.db.knex('print_jobs').orderBy('id').select('username', 'pages', 'colour_pages', 'copies', 'duplex', 'paper_size')) as Record<
      string,
      unknown
    >[];
    assert.deepEqual(
      recorded.map((r) => [r.username, Number(r.pages), Number(r.colour_pages), Number(r.copies), Boolean(r.duplex), r.paper_size]),
      [
        ['bob', 2, 2, 1, true, 'iso_a4_210x297mm'],
        ['carol', 1, 0, 1, false, 'A4'],
      ],
    );
    assert.equal(fx.sink.received.length, 2);
  });

  it('counts the copies a filtered queue marks in the PostScript once', async function () {
    this.timeout(60_000);
    await accountFor(fx.primary.services, { username: 'bob', restricted: false });
    const pdf = await makeDocument(fx.docs, 'pdf', 2);
    const id = await fx.cups.lp(['-d', 'ps', '-U', 'bob', '-n', '3', '-o', 'print-color-mode=monochrome', pdf]);
    assert.equal((await fx.cups.waitForJob(id, done)).state, 'completed', fx.cups.jobLog(id));
    await fx.secondary.whenOutboxEmpty();
    assert.deepEqual(await balanceOf(fx.primary, 'bob'), [-60, 0]); // 2 pages x 3 copies x 10, not x 9
    assert.equal(fx.sink.received.length, 1);
    const sent = fx.sink.received[0]?.toString('latin1') ?? '';
    assert.match(sent, /%%Requirements: numcopies\(3\)/);
    assert.equal(sent.match(/^%%Page: /gm)?.length, 2);
  });

  it('cancels the job of a user without credit and shows the reason in lpstat', async function () {
    this.timeout(60_000);
    await accountFor(fx.primary.services, { username: 'dan', restricted: true, initialCredit: 5, creditLimit: 0 });
    const pdf = await makeDocument(fx.docs, 'pdf', 1);
    const id = await fx.cups.lp(['-d', 'raw', '-U', 'dan', pdf]);
    const job = await fx.cups.waitForJob(id, done);
    assert.equal(job.state, 'canceled');
    const reason = 'Job refused by Quotient: not enough credit: this job costs $0.10 and you have $0.05 available';
    assert.equal(job.message, reason);
    const listing = await fx.cups.lpstat(['-W', 'completed', '-l', '-o', 'raw']);
    assert.ok(listing.includes(`Status: ${reason}`), listing);
    assert.deepEqual(await balanceOf(fx.primary, 'dan'), [5, 0]);
    assert.deepEqual(await printRows('dan'), []);
    assert.equal(fx.sink.received.length, 0);
  });

  it('releases the reservation when the printer fails', async function () {
    this.timeout(60_000);
    await accountFor(fx.primary.services, { username: 'alice', restricted: true, initialCredit: 1000, creditLimit: 0 });
    const pdf = await makeDocument(fx.docs, 'pdf', 2);
    const id = await fx.cups.lp(['-d', 'broken', '-U', 'alice', pdf]);
    const job = await fx.cups.waitForJob(id, done);
    assert.equal(job.state, 'aborted', fx.cups.jobLog(id));
    await fx.secondary.whenOutboxEmpty();
    assert.deepEqual(await balanceOf(fx.primary, 'alice'), [1000, 0]);
    assert.equal(await reservationState(job.uuid), 'released');
    assert.deepEqual(await printRows('alice'), []);
    assert.equal(fx.sink.received.length, 0);
  });

  it('follows each printer failure mode while the primary is unreachable, charging once afterwards and recording the free job at cost 0', async function () {
    this.timeout(120_000);
    await accountFor(fx.primary.services, { username: 'alice', restricted: true, initialCredit: 1000, creditLimit: 0 });
    await fx.shared.stop();
    const pdf = await makeDocument(fx.docs, 'pdf', 2);
    const later = await fx.cups.lp(['-d', 'later', '-U', 'alice', pdf]);
    const denied = await fx.cups.lp(['-d', 'denied', '-U', 'alice', pdf]);
    const held = await fx.cups.lp(['-d', 'held', '-U', 'alice', pdf]);
    const free = await fx.cups.lp(['-d', 'free', '-U', 'alice', pdf]);

    const laterJob = await fx.cups.waitForJob(later, done);
    assert.equal(laterJob.state, 'completed', fx.cups.jobLog(later));
    const deniedJob = await fx.cups.waitForJob(denied, done);
    assert.equal(deniedJob.state, 'canceled');
    assert.equal(deniedJob.message, 'Job refused by Quotient: the accounting server is unreachable');
    // hold: the backend exits 6, CUPS holds the job and retries it
    const heldJob = await fx.cups.waitForJob(held, ['pending-held']);
    assert.match(heldJob.message, /the accounting server is unreachable; the job is held and will be retried/);
    const freeJob = await fx.cups.waitForJob(free, done);
    assert.equal(freeJob.state, 'completed', fx.cups.jobLog(free));
    assert.equal(fx.sink.received.length, 2);

    await fx.shared.start();
    assert.equal((await fx.cups.waitForJob(held, done, 60_000)).state, 'completed', fx.cups.jobLog(held));
    await fx.secondary.whenOutboxEmpty();
    assert.equal(fx.sink.received.length, 3);
    assert.deepEqual(await balanceOf(fx.primary, 'alice'), [960, 0]); // two jobs of 2 pages x 10; the free one costs nothing
    assert.deepEqual(
      (await printRows('alice')).sort(),
      [
        [`print:${heldJob.uuid}`, -20],
        [`print:${laterJob.uuid}`, -20],
      ].sort(),
    );
    assert.deepEqual(await jobsOnPrimary(t, [freeJob.uuid, deniedJob.uuid]), { [freeJob.uuid]: ['printed', 0] });
    assert.deepEqual((await fx.primary.services.ledger.verify()).problems, []);
  });

  it('charges a job that CUPS retried before it printed once', async function () {
    this.timeout(60_000);
    await accountFor(fx.primary.services, { username: 'alice', restricted: true, initialCredit: 1000, creditLimit: 0 });
    // A real backend that asks CUPS to retry the job (exit 6) the first time, then prints through socket.
    const tried = path.join(fx.cups.dir, 'tmp', `flaky-${Date.now()}`);
    fx.cups.addBackend(
      'flaky',
      `#!/bin/sh\nif [ ! -e ${tried} ]; then : > ${tried}; echo 'ERROR: printer busy' >&2; exit 6; fi\nDEVICE_URI="socket:\${DEVICE_URI#flaky:}" exec ${path.join(fx.cups.backendDir, 'socket')} "$@"\n`,
    );
    await fx.cups.lpadmin(['-p', 'raw', '-v', `quotient:flaky://127.0.0.1:${fx.sink.port}`]);
    const pdf = await makeDocument(fx.docs, 'pdf', 2);
    const id = await fx.cups.lp(['-d', 'raw', '-U', 'alice', pdf]);
    const job = await fx.cups.waitForJob(id, done);
    assert.equal(job.state, 'completed', fx.cups.jobLog(id));
    assert.ok(fs.existsSync(tried), 'the first try was refused');
    await fx.secondary.whenOutboxEmpty();
    assert.deepEqual(await balanceOf(fx.primary, 'alice'), [980, 0]);
    assert.deepEqual(await printRows('alice'), [[`print:${job.uuid}`, -20]]);
    assert.equal(fx.sink.received.length, 1);
  });

  it('charges a job restarted after it printed again, as a second print', async function () {
    this.timeout(60_000);
    await accountFor(fx.primary.services, { username: 'alice', restricted: true, initialCredit: 1000, creditLimit: 0 });
    const pdf = await makeDocument(fx.docs, 'pdf', 2);
    const id = await fx.cups.lp(['-d', 'raw', '-U', 'alice', pdf]);
    const first = await fx.cups.waitForJob(id, done);
    assert.equal(first.state, 'completed', fx.cups.jobLog(id));
    await execFileAsync('lp', ['-h', fx.cups.server, '-i', String(id), '-H', 'restart']);
    await fx.sink.waitForDocuments(2);
    const again = await fx.cups.waitForJob(id, ['completed']);
    assert.equal(again.uuid, first.uuid); // CUPS keeps the job's UUID
    await fx.secondary.whenOutboxEmpty();
    assert.deepEqual(await balanceOf(fx.primary, 'alice'), [960, 0]);
    assert.deepEqual(await printRows('alice'), [
      [`print:${first.uuid}`, -20],
      [`print:${first.uuid}#2`, -20],
    ]);
  });

  it('charges a job restarted while the primary is unreachable as a second print, also after the secondary restarted', async function () {
    this.timeout(90_000);
    await accountFor(fx.primary.services, { username: 'alice', restricted: true, initialCredit: 1000, creditLimit: 0 });
    const pdf = await makeDocument(fx.docs, 'pdf', 2);
    const id = await fx.cups.lp(['-d', 'raw', '-U', 'alice', pdf]);
    const first = await fx.cups.waitForJob(id, done);
    assert.equal(first.state, 'completed', fx.cups.jobLog(id));
    await fx.secondary.whenOutboxEmpty();
    // The secondary restarts (an upgrade, a reboot): what it committed is on disk, not in memory.
    await fx.restartSecondary();
    await fx.shared.stop();
    await execFileAsync('lp', ['-h', fx.cups.server, '-i', String(id), '-H', 'restart']);
    await fx.sink.waitForDocuments(2);
    assert.equal((await fx.cups.waitForJob(id, ['completed'])).uuid, first.uuid);

    await fx.shared.start();
    await fx.secondary.whenOutboxEmpty();
    assert.deepEqual(await balanceOf(fx.primary, 'alice'), [960, 0]);
    const rows = await printRows('alice');
    assert.deepEqual(rows[0], [`print:${first.uuid}`, -20]);
    assert.match(rows[1]?.[0] ?? '', new RegExp(`^print:${first.uuid}#offline-\\d+$`));
    assert.deepEqual([rows.length, rows[1]?.[1]], [2, -20]);
  });

  it('creates unknown users on demand, or refuses them when printing.unknownUsers is "deny"', async function () {
    this.timeout(60_000);
    await fx.primary.services.settings.set('users.newUserInitialCredit', 100);
    const pdf = await makeDocument(fx.docs, 'pdf', 1);
    const created = await fx.cups.lp(['-d', 'raw', '-U', 'newbie', pdf]);
    assert.equal((await fx.cups.waitForJob(created, done)).state, 'completed', fx.cups.jobLog(created));
    await fx.secondary.whenOutboxEmpty();
    assert.deepEqual(await balanceOf(fx.primary, 'newbie'), [90, 0]);

    await fx.primary.services.settings.set('printing.unknownUsers', 'deny');
    const refused = await fx.cups.lp(['-d', 'raw', '-U', 'stranger', pdf]);
    const job = await fx.cups.waitForJob(refused, done);
    assert.equal(job.state, 'canceled');
    assert.equal(job.message, 'Job refused by Quotient: unknown user stranger');
    assert.equal(await fx.primary.services.users.findByUsername('stranger'), undefined);
    assert.equal(fx.sink.received.length, 1);
  });
});
