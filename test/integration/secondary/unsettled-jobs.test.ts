/**
 * No money stays held for a job the secondary does not print (issue 14, items 3 and 4), with a
 * real secondary daemon and a real primary: a job authorised online and then refused locally
 * while the primary is away reaches the primary as a release; the socket refuses values the
 * primary would refuse, with the primary's limits; a commit the primary refuses for good is
 * dead-lettered, replaced by a release, and reported to the primary in heartbeats.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import type { RunningPrimary } from '../../../primary/boot';
import type { RunningSecondary } from '../../../secondary/daemon';
import { LocalEndpointClient } from '../../../secondary/local-endpoint/client';
import type { AuthorizeAnswer } from '../../../secondary/local-endpoint/protocol';
import { commitEvent } from '../../../secondary/outbox/job-events';
import { describeOnEachDatabase } from '../../utils/databases';
import { accountFor } from '../../utils/fixtures';
import { startTestPrimary } from '../../utils/primary';
import { removeDir, tempDir } from '../../unit/secondary/helpers';
import { balanceOf, jobsOnPrimary, printJob, printLedgerRows, setFailureModes, startTestSecondary, type LocalJobInput } from '../../utils/secondary';

/** Sends raw lines on the socket and reads one answer per line. */
async function rawRequests(socketPath: string, lines: string[]): Promise<{ ok: boolean; error?: { code: string; message: string } }[]> {
  const socket = net.connect(socketPath);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.setEncoding('utf8');
  let buffer = '';
  const answers = new Promise<string[]>((resolve, reject) => {
    socket.on('data', (text: string) => {
      buffer += text;
      const got = buffer.split('\n').filter((l) => l !== '');
      if (got.length >= lines.length) resolve(got);
    });
    socket.on('error', reject);
  });
  socket.write(lines.map((l) => `${l}\n`).join(''));
  const got = await answers;
  socket.destroy();
  return got.map((l) => JSON.parse(l) as { ok: boolean; error?: { code: string; message: string } });
}

describeOnEachDatabase('jobs a secondary does not print, and events its primary refuses', (t) => {
  let dataDir: string;
  let primary: RunningPrimary | undefined;
  let secondary: RunningSecondary | undefined;
  let client: LocalEndpointClient | undefined;
  let grpcPort = 0;

  const startPrimary = async (): Promise<RunningPrimary> => {
    primary = await startTestPrimary(t, grpcPort ? { grpcPort } : {});
    grpcPort = primary.grpcPort;
    return primary;
  };
  const stopPrimary = async (): Promise<void> => {
    await primary?.shutdown('test');
    primary = undefined;
  };
  const authorize = async (job: LocalJobInput): Promise<AuthorizeAnswer> => {
    const answer = await (client as LocalEndpointClient).authorize(job);
    assert.ok(answer.ok, `authorize failed: ${JSON.stringify(answer)}`);
    const { id: _id, ...rest } = answer as AuthorizeAnswer & { id?: unknown };
    return rest;
  };
  /** Starts the primary (ann with 100), a secondary serving `queues`, and a socket client. */
  const setUp = async (modes: Record<string, 'deny' | 'hold' | 'charge_later'>): Promise<RunningPrimary> => {
    const p = await startPrimary();
    await accountFor(p.services, { username: 'ann', restricted: true, initialCredit: 100 });
    await setFailureModes(p, t, 'print-1', modes);
    secondary = await startTestSecondary(grpcPort, dataDir, { queues: Object.keys(modes) });
    await secondary.whenSynced();
    client = await LocalEndpointClient.connect(secondary.socketPath, { timeoutMs: 10_000 });
    return p;
  };

  beforeEach(() => {
    dataDir = tempDir();
    grpcPort = 0;
  });

  afterEach(async () => {
    client?.close();
    client = undefined;
    await secondary?.shutdown('test');
    secondary = undefined;
    await stopPrimary();
    removeDir(dataDir);
  });

  it('releases a job authorised online and then denied on a "deny" printer while the primary was away, once the primary is back', async function () {
    this.timeout(30_000);
    await setUp({ lab: 'deny' });
    const job = printJob({ queue: 'lab', pages: 3 });
    assert.deepEqual(await authorize(job), { ok: true, jobId: job.jobId, decision: 'allow', reason: '', cost: 30, charged: true, offline: false });
    assert.deepEqual(await balanceOf(primary as RunningPrimary, 'ann'), [100, 30]);

    // The primary goes away; the job is asked about again (the wrapper died, CUPS retried it).
    await stopPrimary();
    assert.deepEqual(await authorize(job), {
      ok: true,
      jobId: job.jobId,
      decision: 'deny',
      reason: 'the accounting server is unreachable',
      cost: 0,
      charged: false,
      offline: true,
    });
    assert.equal(secondary!.outbox.depth(), 1, 'a release waits in the outbox');

    const back = await startPrimary();
    await secondary!.whenOutboxEmpty();
    assert.deepEqual(await balanceOf(back, 'ann'), [100, 0]);
    assert.deepEqual(await jobsOnPrimary(t, [job.jobId]), { [job.jobId]: ['cancelled', 30] });
    assert.equal((await printLedgerRows(t)).size, 0);
    assert.equal(secondary!.outbox.deadLetterCount(), 0);
    assert.deepEqual((await back.services.ledger.verify()).problems, []);
  });

  it('charges a job held while the primary was away exactly once when CUPS retries it after the primary is back', async function () {
    this.timeout(30_000);
    await setUp({ lab: 'hold' });
    const job = printJob({ queue: 'lab', pages: 2 });
    assert.equal((await authorize(job)).cost, 20);
    await stopPrimary();
    assert.equal((await authorize(job)).decision, 'hold');
    const back = await startPrimary();
    // The release reaches the primary (the waiting release is also sent ahead of a retry that
    // comes first: test/integration/secondary/print-decisions.test.ts); the held attempt is given back.
    await secondary!.whenOutboxEmpty();
    assert.deepEqual(await balanceOf(back, 'ann'), [100, 0]);
    // CUPS retries the job: a new attempt, charged on its own.
    const retried = await authorize(job);
    assert.deepEqual([retried.decision, retried.jobId, retried.cost], ['allow', `${job.jobId}#2`, 20]);
    assert.equal((await client!.commit(retried.jobId as string)).ok, true);
    await secondary!.whenOutboxEmpty();
    assert.deepEqual(await balanceOf(back, 'ann'), [80, 0]);
    assert.deepEqual(await jobsOnPrimary(t, [job.jobId, `${job.jobId}#2`]), { [job.jobId]: ['cancelled', 20], [`${job.jobId}#2`]: ['printed', 20] });
    assert.deepEqual([...(await printLedgerRows(t)).values()], [1]);
    assert.deepEqual((await back.services.ledger.verify()).problems, []);
  });

  it('refuses at the socket, naming the field, every value the primary would refuse, and queues nothing', async function () {
    this.timeout(30_000);
    const p = await setUp({ lab: 'charge_later' });
    const job = printJob({ queue: 'lab', pages: 1 });
    assert.equal((await authorize(job)).cost, 10);
    const commit = (printedPages: string): string => `{"op":"commit","jobId":${JSON.stringify(job.jobId)},"printedPages":${printedPages}}`;
    const authorizeLine = (fields: Record<string, unknown>): string => JSON.stringify({ op: 'authorize', job: { ...printJob({ queue: 'lab' }), ...fields } });
    const cases: [string, RegExp][] = [
      [commit('4294967301'), /printedPages: must be at most 1,000,000/], // 2^32 + 5: would have wrapped to 5 on the wire
      [commit('2000000'), /printedPages: must be at most 1,000,000/], // more than the primary prices
      [commit('-1'), /printedPages: must not be negative/],
      [commit('1.5'), /printedPages: must be a whole number/],
      [commit('1e400'), /printedPages/], // JSON's way to Infinity
      [commit('"NaN"'), /printedPages/],
      [commit('null'), /printedPages/],
      [`{"op":"release","jobId":${JSON.stringify(job.jobId)},"reason":${JSON.stringify('r'.repeat(5000))}}`, /reason/],
      [`{"op":"commit","jobId":${JSON.stringify('j'.repeat(192))}}`, /jobId/],
      [`{"op":"commit","jobId":"urn:uuid:bell\\u0007"}`, /jobId: contains control characters/],
      [authorizeLine({ pages: 4294967301 }), /job\.pages: must be at most 1,000,000/],
      [authorizeLine({ copies: 0 }), /job\.copies: must be at least 1/],
      [authorizeLine({ copies: 10001 }), /job\.copies: must be at most 10,000/],
      [authorizeLine({ documentName: 'd'.repeat(2000) }), /job\.documentName/],
      [authorizeLine({ username: 'u'.repeat(200) }), /job\.username/],
      [authorizeLine({ paperSize: 'A4'.repeat(40) }), /job\.paperSize/], // the primary keeps 64
      [authorizeLine({ accountCode: 'c'.repeat(100) }), /job\.accountCode/],
      [authorizeLine({ finishings: ['staple; rm -rf'] }), /job\.finishings\.0: is not an option name/],
      [authorizeLine({ queue: 'lab\u0000' }), /job\.queue: contains control characters/],
      [authorizeLine({ jobId: 'urn:uuid:x#2' }), /job\.jobId: must not contain "#"/],
      [authorizeLine({ submittedAtMs: 1e20 }), /job\.submittedAtMs/],
    ];
    const answers = await rawRequests(
      secondary!.socketPath,
      cases.map(([line]) => line),
    );
    answers.forEach((answer, i) => {
      const [line, pattern] = cases[i] as [string, RegExp];
      assert.equal(answer.ok, false, `accepted: ${line.slice(0, 120)}`);
      assert.equal(answer.error?.code, 'VALIDATION', line.slice(0, 120));
      assert.match(answer.error?.message ?? '', pattern, line.slice(0, 120));
    });
    assert.equal(secondary!.outbox.depth(), 0, 'nothing queued');
    assert.equal(secondary!.outbox.offlineJobCount(), 0);
    assert.deepEqual(await balanceOf(p, 'ann'), [100, 10]);

    // The job's real commit is still accepted and charged as it should be.
    assert.equal((await client!.commit(job.jobId, 1)).ok, true);
    await secondary!.whenOutboxEmpty();
    assert.deepEqual(await balanceOf(p, 'ann'), [90, 0]);
    assert.equal(Number(((await t.db.knex('print_jobs').count({ n: '*' })) as { n: number | string }[])[0]?.n), 1);
  });

  it('releases a job whose commit the primary refused for good, and reports the dead letter to the primary', async function () {
    this.timeout(30_000);
    const p = await setUp({ lab: 'charge_later' });
    const job = printJob({ queue: 'lab', pages: 4 });
    assert.equal((await authorize(job)).cost, 40);
    // A commit the primary refuses (queued by a secondary from before the socket checked page counts).
    await secondary!.outbox.enqueue(commitEvent(job.jobId, 2_000_000));
    await secondary!.whenOutboxEmpty();
    assert.deepEqual(await balanceOf(p, 'ann'), [100, 0]);
    assert.deepEqual(await jobsOnPrimary(t, [job.jobId]), { [job.jobId]: ['cancelled', 40] });
    const [dead] = secondary!.outbox.deadLetters();
    assert.deepEqual([dead?.kind, dead?.key], ['job.commit', `job:${job.jobId}`]);
    assert.match(dead?.reason ?? '', /^INVALID_ARGUMENT: VALIDATION: printedPages must be at most 1,000,000$/);
    const cancelled = (await t.db.knex('print_jobs').where({ job_uuid: job.jobId }).first('reason')) as { reason: string };
    assert.match(
      cancelled.reason,
      /its commit was refused by the primary \(INVALID_ARGUMENT: VALIDATION: printedPages must be at most 1,000,000\); released so nothing stays held/,
    );

    // The next heartbeats carry the dead letter (every second in these tests).
    for (let i = 0; i < 100 && (await p.secondaries.get('print-1'))?.deadLetters !== 1; i++) await new Promise((r) => setTimeout(r, 50));
    const shown = await p.secondaries.get('print-1');
    assert.equal(shown?.deadLetters, 1);
    assert.match(shown?.lastDeadLetter ?? '', new RegExp(`^job:${job.jobId}: INVALID_ARGUMENT: VALIDATION: printedPages must be at most 1,000,000$`));
    assert.deepEqual((await p.services.ledger.verify()).problems, []);
  });
});
