/**
 * The backend wrapper in-process, against a scripted secondary (a Unix socket answering the
 * local protocol) and a fake real backend (a shell script in a temporary CUPS_SERVERBIN that
 * records how it was run). The same flows with real CUPS are in test/e2e/cups/.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { BackendExit, DISCOVERY_LINE, innerDevice, runBackend, type Analyser } from '../../../secondary/print/cups/backend';

const UUID = 'urn:uuid:ac6ef0dc-7ea7-3f69-6256-a6bc36516a10';
const OPTIONS = `print-color-mode=color sides=two-sided-long-edge media=A4 job-billing=PHYS job-uuid=${UUID} time-at-creation=1795325011`;

/** A fake real backend: records argv, DEVICE_URI and stdin; prints PAGE: total; exits with $FAKE_EXIT. */
const FAKE_BACKEND = `#!/bin/sh
out="$(dirname "$0")/../record"
printf '%s\\n' "$DEVICE_URI" "$*" > "$out.args"
if [ -n "$6" ]; then cat "$6" > "$out.data"; else cat > "$out.data"; fi
if [ -n "$FAKE_SLEEP" ]; then echo "INFO: busy" >&2; exec sleep "$FAKE_SLEEP"; fi
echo "INFO: printing" >&2
echo "PAGE: total \${FAKE_PAGES:-4}" >&2
exit \${FAKE_EXIT:-0}
`;

interface Scripted {
  socketPath: string;
  requests: Record<string, unknown>[];
  answer: Record<string, unknown>;
  /** The answer to a commit (default: queued). */
  commitAnswer?: (request: Record<string, unknown>) => Record<string, unknown>;
  close(): Promise<void>;
}

async function scriptedSecondary(dir: string): Promise<Scripted> {
  const socketPath = path.join(dir, 's.sock');
  const sockets = new Set<net.Socket>();
  const scripted: Scripted = {
    socketPath,
    requests: [],
    answer: { ok: true, decision: 'allow', reason: '', cost: 60, charged: true, offline: false },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  const server = net.createServer((socket) => {
    sockets.add(socket);
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      buffer += text;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) !== -1) {
        const request = JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>;
        buffer = buffer.slice(nl + 1);
        scripted.requests.push(request);
        const queued = { ok: true, duplicate: false, direct: false };
        const answer =
          request.op === 'authorize' ? scripted.answer : request.op === 'commit' && scripted.commitAnswer ? scripted.commitAnswer(request) : queued;
        socket.write(`${JSON.stringify({ ...answer, id: request.id })}\n`);
      }
    });
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(socketPath, () => resolve()));
  return scripted;
}

const twoPages: Analyser = () =>
  Promise.resolve({
    format: 'pdf',
    pages: 2,
    colourPages: null,
    copiesInDocument: 1,
    duplex: null,
    paperSize: null,
    method: 'test',
    fallback: false,
    warnings: [],
  });

describe('the CUPS backend wrapper', () => {
  let dir: string;
  let serverBin: string;
  let secondary: Scripted;
  let stderr: string;
  let stdout: string;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qbe-'));
    serverBin = path.join(dir, 'sb');
    fs.mkdirSync(path.join(serverBin, 'backend'), { recursive: true });
    // mode 0700: the wrapper (as root) runs it as root, as CUPS would
    fs.writeFileSync(path.join(serverBin, 'backend/fake'), FAKE_BACKEND, { mode: 0o700 });
    secondary = await scriptedSecondary(dir);
    stderr = '';
    stdout = '';
  });

  afterEach(async () => {
    await secondary.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function run(args: string[], opts: { env?: NodeJS.ProcessEnv; stdin?: string; analyse?: Analyser; cancelled?: AbortSignal } = {}): Promise<number> {
    const err = new PassThrough();
    err.on('data', (d: Buffer) => (stderr += d.toString()));
    const out = new PassThrough();
    out.on('data', (d: Buffer) => (stdout += d.toString()));
    return runBackend(args, {
      env: {
        DEVICE_URI: 'quotient:fake://printer/queue',
        CUPS_SERVERBIN: serverBin,
        PRINTER: 'lab',
        QUOTIENT_SOCKET: secondary.socketPath,
        TMPDIR: dir,
        ...opts.env,
      },
      stdin: Readable.from([Buffer.from(opts.stdin ?? '')]),
      stdout: out,
      stderr: err,
      analyse: opts.analyse ?? twoPages,
      decisionTimeoutMs: 5000,
      ...(opts.cancelled ? { cancelled: opts.cancelled } : {}),
    });
  }

  const record = (name: string): string => fs.readFileSync(path.join(serverBin, `record.${name}`), 'utf8');

  it('answers discovery with one network line and exits 0', async () => {
    assert.equal(await run([]), BackendExit.OK);
    assert.equal(stdout, `${DISCOVERY_LINE}\n`);
  });

  it('on allow runs the real backend with the inner URI, the same arguments and the document, then commits the reported pages', async () => {
    const code = await run(['7', 'alice', 'report.pdf', '3', OPTIONS], { stdin: '%PDF-1.4 document' });
    assert.equal(code, BackendExit.OK, stderr);
    assert.equal(record('args'), `fake://printer/queue\n7 alice report.pdf 3 ${OPTIONS}\n`);
    assert.equal(record('data'), '%PDF-1.4 document');
    assert.match(stderr, /^INFO: printing$/m);
    assert.match(stderr, /^PAGE: total 4$/m);
    const [authorize, commit] = secondary.requests;
    assert.deepEqual(authorize?.job, {
      jobId: UUID,
      queue: 'lab',
      username: 'alice',
      documentName: 'report.pdf',
      pages: 2,
      colourPages: 2,
      copies: 1, // stdin: the filters made the copies
      duplex: true,
      paperSize: 'A4',
      finishings: [],
      accountCode: 'PHYS',
      clientHost: '',
      submittedAtMs: 1795325011000,
      pagesKnown: true,
    });
    assert.deepEqual({ op: commit?.op, jobId: commit?.jobId, printedPages: commit?.printedPages }, { op: 'commit', jobId: UUID, printedPages: 4 });
    assert.deepEqual(
      fs.readdirSync(dir).filter((f) => f.startsWith('quotient-')),
      [],
      'the spooled copy is removed',
    );
  });

  it('keeps the analysed count when the real backend reports PAGE: total 0 (a printer that does not count), so the job is not free', async () => {
    const code = await run(['7', 'alice', 'report.pdf', '3', OPTIONS], { stdin: '%PDF-1.4 document', env: { FAKE_PAGES: '0' } });
    assert.equal(code, BackendExit.OK, stderr);
    const commit = secondary.requests.find((r) => r.op === 'commit');
    assert.deepEqual({ op: commit?.op, printedPages: commit?.printedPages }, { op: 'commit', printedPages: undefined });
  });

  it('commits as authorised when the secondary refuses the page count the real backend reported (past its limits), so the job is still charged', async () => {
    secondary.commitAnswer = (r) =>
      r.printedPages === undefined
        ? { ok: true, duplicate: false, direct: false }
        : { ok: false, error: { code: 'VALIDATION', message: 'printedPages: must be at most 1,000,000' } };
    const code = await run(['7', 'alice', 'report.pdf', '3', OPTIONS], { stdin: '%PDF-1.4 document', env: { FAKE_PAGES: '2000000' } });
    assert.equal(code, BackendExit.OK, stderr);
    const commits = secondary.requests.filter((r) => r.op === 'commit').map((r) => [r.jobId, r.printedPages]);
    assert.deepEqual(commits, [
      [UUID, 2_000_000],
      [UUID, undefined],
    ]);
    assert.match(
      stderr,
      /^WARNING: Quotient: the backend reported 2000000 pages, which the secondary refused \(printedPages: must be at most 1,000,000\); charging the job as authorised$/m,
    );
    assert.doesNotMatch(stderr, /could not be recorded/);
  });

  it('with a file argument passes the file on and counts the copies argument', async () => {
    const file = path.join(dir, 'd00001-001');
    fs.writeFileSync(file, 'raw bytes');
    assert.equal(await run(['7', 'alice', 't', '3', OPTIONS, file]), BackendExit.OK, stderr);
    assert.equal(record('data'), 'raw bytes');
    assert.equal((secondary.requests[0]?.job as { copies: number }).copies, 3);
  });

  it('on deny cancels the job (5) with the reason as an ERROR line, and never runs the real backend', async () => {
    secondary.answer = { ok: true, decision: 'deny', reason: 'not enough credit: this job costs $0.70', cost: 70, charged: true, offline: false };
    assert.equal(await run(['7', 'bob', 't', '1', OPTIONS]), BackendExit.CANCEL);
    assert.match(stderr, /^ERROR: Job refused by Quotient: not enough credit: this job costs \$0\.70$/m);
    assert.doesNotMatch(stderr, /^INFO:/m); // an INFO line before it would leave the job's message empty
    assert.equal(fs.existsSync(path.join(serverBin, 'record.args')), false);
  });

  it('sends a job nothing could count as pagesKnown: false, and on review holds it in CUPS (3) with the reason, never printing', async () => {
    const uncountable: Analyser = () =>
      Promise.resolve({
        format: 'postscript',
        pages: 1,
        colourPages: null,
        copiesInDocument: 1,
        duplex: null,
        paperSize: null,
        method: 'fallback-size',
        fallback: true,
        warnings: [],
      });
    secondary.answer = {
      ok: true,
      decision: 'review',
      reason: 'Quotient cannot count the pages of this document; it is held for an administrator',
      cost: 0,
      charged: false,
      offline: false,
    };
    assert.equal(await run(['7', 'bob', 't', '1', OPTIONS], { analyse: uncountable }), BackendExit.HOLD);
    assert.equal((secondary.requests[0]?.job as { pagesKnown: boolean }).pagesKnown, false);
    assert.match(stderr, /^ERROR: Job held by Quotient: Quotient cannot count the pages of this document; it is held for an administrator$/m);
    assert.equal(fs.existsSync(path.join(serverBin, 'record.args')), false);
    assert.equal(secondary.requests.length, 1, 'nothing reserved, so nothing to commit or release');
  });

  it('on hold, and when the secondary is unreachable, exits 6 so CUPS retries the job', async () => {
    secondary.answer = {
      ok: true,
      decision: 'hold',
      reason: 'the accounting server is unreachable; the job is held and will be retried',
      cost: 0,
      charged: true,
      offline: true,
    };
    assert.equal(await run(['7', 'bob', 't', '1', OPTIONS]), BackendExit.RETRY);
    assert.match(stderr, /^WARNING: Quotient: the accounting server is unreachable; the job is held and will be retried$/m);
    stderr = '';
    assert.equal(await run(['7', 'bob', 't', '1', OPTIONS], { env: { QUOTIENT_SOCKET: path.join(dir, 'nobody.sock') } }), BackendExit.RETRY);
    assert.match(stderr, /^WARNING: Quotient: the Quotient secondary is not answering on .*nobody\.sock/m);
  });

  it('releases the job when the real backend fails, and passes its exit code on', async () => {
    assert.equal(await run(['7', 'alice', 't', '1', OPTIONS], { env: { FAKE_EXIT: '1' } }), BackendExit.FAILED);
    assert.deepEqual(
      secondary.requests.map((r) => r.op),
      ['authorize', 'release'],
    );
  });

  it('keeps the reservation when the real backend asks CUPS to retry (the retry reuses it)', async () => {
    assert.equal(await run(['7', 'alice', 't', '1', OPTIONS], { env: { FAKE_EXIT: '6' } }), BackendExit.RETRY);
    assert.deepEqual(
      secondary.requests.map((r) => r.op),
      ['authorize'],
    );
  });

  it('stops the real backend and releases the job when CUPS cancels it while printing (SIGTERM)', async () => {
    const controller = new AbortController();
    const running = run(['7', 'alice', 't', '1', OPTIONS], { env: { FAKE_SLEEP: '30' }, cancelled: controller.signal });
    while (!stderr.includes('INFO: busy')) await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    assert.equal(await running, BackendExit.CANCEL);
    assert.deepEqual(
      secondary.requests.map((r) => [r.op, r.reason]),
      [
        ['authorize', undefined],
        ['release', 'cancelled while printing'],
      ],
    );
  });

  it('releases without printing when the job was cancelled while waiting for the decision', async () => {
    const controller = new AbortController();
    controller.abort();
    assert.equal(await run(['7', 'alice', 't', '1', OPTIONS], { cancelled: controller.signal }), BackendExit.CANCEL);
    assert.deepEqual(
      secondary.requests.map((r) => r.op),
      ['authorize', 'release'],
    );
    assert.equal(fs.existsSync(path.join(serverBin, 'record.args')), false);
  });

  it('stops the queue (4) without asking anyone when the device URI or the real backend is wrong', async () => {
    assert.equal(await run(['7', 'a', 't', '1', ''], { env: { DEVICE_URI: 'socket://printer' } }), BackendExit.STOP);
    assert.equal(await run(['7', 'a', 't', '1', ''], { env: { DEVICE_URI: 'quotient:nosuch://printer' } }), BackendExit.STOP);
    assert.match(stderr, /there is no CUPS backend "nosuch"/);
    assert.equal(secondary.requests.length, 0);
  });

  it("survives hostile arguments and an analyser that throws: pages unknown, for the printer's rule to decide", async () => {
    const throwing: Analyser = () => Promise.reject(new Error('boom'));
    const code = await run(['x', 'u'.repeat(128), 't\u0000\n'.repeat(2000), 'many', '\'"{{{ =='], { analyse: throwing });
    assert.equal(code, BackendExit.OK, stderr);
    const job = secondary.requests[0]?.job as { pages: number; copies: number; username: string; jobId: string; pagesKnown: boolean };
    assert.equal(job.pagesKnown, false);
    assert.equal(job.pages, 1);
    assert.equal(job.copies, 1);
    assert.equal(job.username, 'u'.repeat(128));
    assert.match(job.jobId, /^cups:.+\/lab\/x@0$/);
    assert.equal(await run(['only', 'three', 'args']), BackendExit.FAILED);
  });

  it('refuses a user name longer than the primary allows rather than charge whoever its first 128 characters name', async () => {
    assert.equal(await run(['7', `${'a'.repeat(128)}x`, 't', '1', OPTIONS]), BackendExit.CANCEL);
    assert.match(stderr, /^ERROR: Job refused by Quotient: the user name is longer than 128 characters$/m);
    assert.deepEqual(secondary.requests, []);
    assert.equal(fs.existsSync(path.join(serverBin, 'record.args')), false);
  });

  it('commits and releases the attempt the answer names (a restarted job printed again)', async () => {
    secondary.answer = { ok: true, jobId: `${UUID}#2`, decision: 'allow', reason: '', cost: 60, charged: true, offline: false };
    assert.equal(await run(['7', 'alice', 't', '1', OPTIONS]), BackendExit.OK, stderr);
    assert.deepEqual(
      secondary.requests.map((r) => [r.op, r.jobId ?? (r.job as { jobId: string }).jobId]),
      [
        ['authorize', UUID],
        ['commit', `${UUID}#2`],
      ],
    );
    secondary.requests.length = 0;
    assert.equal(await run(['7', 'alice', 't', '1', OPTIONS], { env: { FAKE_EXIT: '1' } }), BackendExit.FAILED);
    assert.deepEqual(
      secondary.requests.map((r) => [r.op, r.jobId ?? (r.job as { jobId: string }).jobId]),
      [
        ['authorize', UUID],
        ['release', `${UUID}#2`],
      ],
    );
  });

  it('splits the device URI', () => {
    assert.deepEqual(innerDevice('quotient:socket://10.0.0.5:9100'), { uri: 'socket://10.0.0.5:9100', scheme: 'socket' });
    assert.deepEqual(innerDevice('quotient:ipp://printer/ipp/print'), { uri: 'ipp://printer/ipp/print', scheme: 'ipp' });
    assert.ok('error' in innerDevice('quotient:quotient:socket://x'));
    assert.ok('error' in innerDevice(undefined));
  });
});
