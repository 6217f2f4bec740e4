/**
 * A real secondary daemon against a real primary (in this process, on loopback): registration,
 * jobs through the local socket, the outbox delivering, the failure modes while the primary is
 * stopped, and the catch-up once it is back, with every job charged exactly once.
 */
import assert from 'node:assert/strict';
import type { RunningPrimary } from '../../../primary/boot';
import type { RunningSecondary } from '../../../secondary/daemon';
import { LocalEndpointClient } from '../../../secondary/local-endpoint/client';
import { localJobSchema, type AuthorizeAnswer } from '../../../secondary/local-endpoint/protocol';
import { commitEvent, offlineEvent } from '../../../secondary/outbox/job-events';
import { describeOnEachDatabase } from '../../utils/databases';
import { accountFor } from '../../utils/fixtures';
import { startTestPrimary } from '../../utils/primary';
import { removeDir, tempDir } from '../../unit/secondary/helpers';
import { balanceOf, jobsOnPrimary, printJob, printLedgerRows, setFailureModes, startTestSecondary, type LocalJobInput } from '../../utils/secondary';

describeOnEachDatabase('secondary daemon with a real primary', (t) => {
  let dataDir: string;
  let primary: RunningPrimary | undefined;
  let secondary: RunningSecondary | undefined;
  let client: LocalEndpointClient | undefined;
  let grpcPort: number;

  const startPrimary = async (): Promise<RunningPrimary> => {
    primary = await startTestPrimary(t, grpcPort ? { grpcPort } : {});
    grpcPort = primary.grpcPort;
    return primary;
  };

  const stopPrimary = async (): Promise<void> => {
    await primary?.shutdown('test');
    primary = undefined;
  };

  const connect = async (): Promise<LocalEndpointClient> => {
    client?.close();
    client = await LocalEndpointClient.connect((secondary as RunningSecondary).socketPath, { timeoutMs: 10_000 });
    return client;
  };

  /** Authorises through the socket and expects an answer (not a protocol error). */
  const authorize = async (job: LocalJobInput): Promise<AuthorizeAnswer> => {
    const answer = await (client as LocalEndpointClient).authorize(job);
    assert.ok(answer.ok, `authorize failed: ${JSON.stringify(answer)}`);
    const { id: _id, ...rest } = answer as AuthorizeAnswer & { id?: unknown };
    return rest;
  };

  const commit = async (jobId: string, printedPages?: number): Promise<void> => {
    assert.equal((await (client as LocalEndpointClient).commit(jobId, printedPages)).ok, true);
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

  it('registers, authorises and commits jobs through the local socket, and the balances on the primary are exact', async () => {
    const p = await startPrimary();
    await accountFor(p.services, { username: 'ann', restricted: true, initialCredit: 100 });
    await accountFor(p.services, { username: 'carol', restricted: true, initialCredit: 0 });
    secondary = await startTestSecondary(grpcPort, dataDir, { queues: ['lab'] });
    await secondary.whenRegistered();
    await secondary.whenSynced();
    const registered = await p.secondaries.get('print-1');
    assert.deepEqual([registered?.role, registered?.state], ['print', 'online']);
    await connect();
    // The Watch snapshot: restricted users with nothing left to spend.
    assert.deepEqual(await client!.blocked('carol'), { ok: true, blocked: true, reason: 'no credit left', id: 1 });
    assert.deepEqual(await client!.blocked('ann'), { ok: true, blocked: false, reason: '', id: 2 });

    const a = printJob({ pages: 3, copies: 2 });
    assert.deepEqual(await authorize(a), { ok: true, decision: 'allow', jobId: a.jobId, reason: '', cost: 60, charged: true, offline: false });
    assert.deepEqual(await balanceOf(p, 'ann'), [100, 60]);
    await commit(a.jobId, 4);

    const b = printJob({ pages: 7 });
    const denied = await authorize(b);
    assert.equal(denied.decision, 'deny');
    assert.match(denied.reason, /not enough credit/);

    const c = printJob({ pages: 1 });
    assert.equal((await authorize(c)).cost, 10);
    assert.equal((await client!.release(c.jobId, 'backend failed')).ok, true);

    await secondary.whenOutboxEmpty();
    assert.deepEqual(await balanceOf(p, 'ann'), [60, 0]);
    assert.deepEqual(await jobsOnPrimary(t, [a.jobId, b.jobId, c.jobId]), {
      [a.jobId]: ['printed', 40],
      [b.jobId]: ['denied', 70],
      [c.jobId]: ['cancelled', 10],
    });
    assert.deepEqual((await p.services.ledger.verify()).problems, []);
    const status = await client!.status();
    assert.ok(status.ok && 'connected' in status);
    assert.deepEqual(
      [status.registered, status.connected, status.outboxDepth, status.deadLetters, status.offlineJobs, status.writable, status.configKnown],
      [true, true, 0, 0, 0, true, true],
    );
  });

  it("follows each printer's failure mode while the primary is stopped, then delivers everything once it is back: every job charged exactly once", async function () {
    this.timeout(60_000);
    const p = await startPrimary();
    await accountFor(p.services, { username: 'ann', restricted: true, initialCredit: 1000 });
    await accountFor(p.services, { username: 'bob', restricted: false });
    await setFailureModes(p, t, 'print-1', { later: 'charge_later', free: 'free', hold: 'hold', deny: 'deny' });
    secondary = await startTestSecondary(grpcPort, dataDir, { queues: ['later', 'free', 'hold', 'deny'] });
    await secondary.whenSynced();
    await connect();

    // Online: ten jobs printed and charged; one authorised whose commit will come during the outage.
    const online = Array.from({ length: 10 }, () => printJob({ queue: 'later', pages: 2 }));
    for (const j of online) {
      assert.equal((await authorize(j)).decision, 'allow');
      await commit(j.jobId);
    }
    const pending = printJob({ queue: 'later', pages: 3 });
    assert.equal((await authorize(pending)).cost, 30);
    await secondary.whenOutboxEmpty();
    assert.deepEqual(await balanceOf(p, 'ann'), [800, 30]);

    await stopPrimary();

    const later = printJob({ queue: 'later', pages: 5 });
    assert.deepEqual(await authorize(later), {
      ok: true,
      decision: 'allow',
      jobId: later.jobId,
      reason: 'the accounting server is unreachable',
      cost: 0,
      charged: true,
      offline: true,
    });
    await commit(later.jobId, 5);
    const free = printJob({ queue: 'free', username: 'bob', pages: 4 });
    assert.deepEqual(await authorize(free), {
      ok: true,
      decision: 'allow',
      jobId: free.jobId,
      reason: 'the accounting server is unreachable',
      cost: 0,
      charged: false,
      offline: true,
    });
    await commit(free.jobId);
    const held = printJob({ queue: 'hold', pages: 1 });
    assert.equal((await authorize(held)).decision, 'hold');
    const refused = printJob({ queue: 'deny', pages: 1 });
    assert.deepEqual(await authorize(refused), {
      ok: true,
      decision: 'deny',
      jobId: refused.jobId,
      reason: 'the accounting server is unreachable',
      cost: 0,
      charged: false,
      offline: true,
    });
    const cancelled = printJob({ queue: 'later', pages: 2 });
    assert.equal((await authorize(cancelled)).offline, true);
    assert.equal((await client!.release(cancelled.jobId, 'cancelled by the user')).ok, true);
    await commit(pending.jobId, 3);
    const bobs = Array.from({ length: 20 }, () => printJob({ queue: 'later', username: 'bob', pages: 1 }));
    for (const j of bobs) {
      assert.equal((await authorize(j)).offline, true);
      await commit(j.jobId);
    }
    const during = await client!.status();
    assert.ok(during.ok && 'outboxDepth' in during);
    // 21 offline records, the commit of the job authorised online, the cancelled job's release,
    // and a release each for the held and the denied job (in case the primary had authorised them).
    assert.deepEqual([during.connected, during.outboxDepth, during.offlineJobs], [false, 26, 0]);

    const back = await startPrimary();
    await secondary.whenOutboxEmpty();

    assert.deepEqual(await balanceOf(back, 'ann'), [1000 - 200 - 30 - 50, 0]);
    assert.deepEqual(await balanceOf(back, 'bob'), [-200, 0]);
    const recorded = await jobsOnPrimary(t, [pending.jobId, later.jobId, free.jobId, held.jobId, refused.jobId, cancelled.jobId]);
    assert.deepEqual(recorded, {
      [pending.jobId]: ['printed', 30],
      [later.jobId]: ['printed', 50],
      [free.jobId]: ['printed', 0],
    });
    const ledgerRows = await printLedgerRows(t);
    for (const j of [...online, pending, later, ...bobs]) assert.equal(ledgerRows.get(`job:${j.jobId}`), 1, `one charge for ${j.jobId}`);
    assert.equal(ledgerRows.size, online.length + 2 + bobs.length);
    assert.equal(secondary.outbox.deadLetterCount(), 0);
    assert.deepEqual((await back.services.ledger.verify()).problems, []);

    // A replay (a secondary that died before it recorded the acknowledgement) changes nothing.
    await secondary.outbox.enqueue(commitEvent(pending.jobId, 3));
    await secondary.outbox.enqueue(offlineEvent(localJobSchema.parse(later), 5, false));
    await secondary.whenOutboxEmpty();
    assert.deepEqual(await balanceOf(back, 'ann'), [720, 0]);
    assert.equal((await printLedgerRows(t)).size, online.length + 2 + bobs.length);
    assert.equal(secondary.outbox.deadLetterCount(), 0);
  });

  it('still knows the failure modes after a restart while the primary is down', async () => {
    const p = await startPrimary();
    await accountFor(p.services, { username: 'ann', restricted: false });
    await setFailureModes(p, t, 'print-1', { hold: 'hold', deny: 'deny', later: 'charge_later' });
    secondary = await startTestSecondary(grpcPort, dataDir, { queues: ['hold', 'deny', 'later'] });
    await secondary.whenSynced();
    await secondary.shutdown('restart');
    await stopPrimary();

    secondary = await startTestSecondary(grpcPort, dataDir, { queues: ['hold', 'deny', 'later'] });
    await connect();
    const status = await client!.status();
    assert.ok(status.ok && 'registered' in status);
    assert.deepEqual([status.registered, status.connected, status.configKnown], [false, false, true]);
    assert.equal((await authorize(printJob({ queue: 'hold' }))).decision, 'hold');
    assert.equal((await authorize(printJob({ queue: 'deny' }))).decision, 'deny');
    const j = printJob({ queue: 'later', pages: 4 });
    assert.equal((await authorize(j)).decision, 'allow');
    await commit(j.jobId);

    const back = await startPrimary();
    await secondary.whenRegistered();
    await secondary.whenOutboxEmpty();
    assert.deepEqual(await balanceOf(back, 'ann'), [-40, 0]);
  });

  it('answers by the failure mode before it ever reached the primary, then registers and delivers when the primary starts', async () => {
    // A port the primary will use, with nothing listening yet.
    const first = await startPrimary();
    await accountFor(first.services, { username: 'ann', restricted: false });
    await stopPrimary();

    secondary = await startTestSecondary(grpcPort, dataDir);
    await connect();
    const j = printJob({ pages: 2 });
    assert.deepEqual(await authorize(j), {
      ok: true,
      decision: 'allow',
      jobId: j.jobId,
      reason: 'the accounting server is unreachable',
      cost: 0,
      charged: true,
      offline: true,
    });
    await commit(j.jobId, 2);

    const p = await startPrimary();
    await secondary.whenRegistered();
    await secondary.whenOutboxEmpty();
    assert.deepEqual(await balanceOf(p, 'ann'), [-20, 0]);
    assert.deepEqual(
      (await p.secondaries.list()).map((s) => s.name),
      ['print-1'],
    );
  });

  it('dead-letters events the primary refuses for good, with the reason, and delivers the others', async () => {
    const p = await startPrimary();
    await accountFor(p.services, { username: 'ann', restricted: false });
    secondary = await startTestSecondary(grpcPort, dataDir);
    await secondary.whenRegistered();
    await connect();
    const printed = printJob({ pages: 1 });
    await authorize(printed);
    await commit(printed.jobId);
    await secondary.whenOutboxEmpty();

    await commit('urn:uuid:never-authorised');
    assert.equal((await client!.release(printed.jobId, 'too late')).ok, true);
    const fine = printJob({ pages: 2 });
    await authorize(fine);
    await commit(fine.jobId);
    await secondary.whenOutboxEmpty();

    assert.deepEqual(
      secondary.outbox.deadLetters().map((d) => [d.key, d.reason.split(':')[0]]),
      [
        ['job:urn:uuid:never-authorised', 'NOT_FOUND'],
        [`job:${printed.jobId}`, 'FAILED_PRECONDITION'],
      ],
    );
    assert.deepEqual(await balanceOf(p, 'ann'), [-30, 0]);
  });

  it('is refused with a wrong cluster secret: it never registers, and jobs follow the failure mode', async () => {
    const p = await startPrimary();
    secondary = await startTestSecondary(grpcPort, dataDir, { secret: 'not-the-cluster-secret-at-all' });
    await connect();
    const answer = await authorize(printJob());
    assert.deepEqual([answer.decision, answer.offline], ['allow', true]);
    const status = await client!.status();
    assert.ok(status.ok && 'registered' in status);
    assert.deepEqual([status.registered, status.connected, status.offlineJobs], [false, false, 1]);
    assert.deepEqual(await p.secondaries.list(), []);
  });
});
