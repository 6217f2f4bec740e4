import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { describeOnEachDatabase } from '../../utils/databases';
import { accountFor } from '../../utils/fixtures';
import { rpc, clientsFor, sharedPrimary, type TestClients } from '../../utils/primary';
import type { RunningPrimary } from '../../../primary/boot';
import type { PrintJob } from '../../../protos/generated/quotient/v1/PrintJob';
import type { AuthorizeJobResponse__Output } from '../../../protos/generated/quotient/v1/AuthorizeJobResponse';
import type { ControlEvent__Output } from '../../../protos/generated/quotient/v1/ControlEvent';

const job = (overrides: Partial<PrintJob> = {}): PrintJob & { jobId: string } =>
  ({
    jobId: `urn:uuid:${Math.random().toString(16).slice(2)}`,
    queue: 'lab-laser',
    username: 'ann',
    documentName: 'notes.pdf',
    pages: 2,
    colourPages: 0,
    copies: 1,
    duplex: false,
    paperSize: 'A4',
    ...overrides,
  }) as PrintJob & { jobId: string };

async function rejectsWithStatus(promise: Promise<unknown>, code: grpc.status, details?: RegExp): Promise<void> {
  await assert.rejects(promise, (err: grpc.ServiceError) => {
    assert.equal(err.code, code, `expected status ${code}, got ${err.code}: ${err.details}`);
    if (details) assert.match(err.details, details);
    return true;
  });
}

describeOnEachDatabase('primary gRPC', (t) => {
  let primary: RunningPrimary;
  let c: TestClients;

  const shared = sharedPrimary(t);

  beforeEach(async () => {
    primary = shared.primary;
    c = clientsFor(primary.grpcPort, { name: 'print-1' });
    await rpc(c.cluster, 'Register', {
      name: 'print-1',
      role: 'ROLE_PRINT',
      version: '0.1.0',
      host: 'printsrv',
      printers: [{ queue: 'lab-laser', description: 'Lab laser', location: 'Room 101', deviceUri: 'socket://127.0.0.1:9100' }],
    });
  });

  afterEach(async () => {
    c.close();
  });

  const balance = async (username: string): Promise<[number, number]> => {
    const u = await primary.services.users.getByUsername(username);
    const a = await primary.services.users.personalAccount(u.id);
    return [a.balance, a.reserved];
  };

  it('registers a secondary and its queues as printers', async () => {
    const list = await primary.secondaries.list();
    assert.deepEqual(
      list.map((s) => [s.name, s.role, s.version, s.host, s.state]),
      [['print-1', 'print', '0.1.0', 'printsrv', 'online']],
    );
    const printer = await t.db.knex('printers').where({ server_name: 'print-1', queue_name: 'lab-laser' }).first();
    assert.deepEqual([printer.display_name, printer.location, printer.device_uri], ['Lab laser', 'Room 101', 'socket://127.0.0.1:9100']);
    await rpc(c.cluster, 'Heartbeat', { outboxDepth: 7, oldestPendingMs: 1234 });
    assert.equal((await primary.secondaries.get('print-1'))?.outboxDepth, 7);
  });

  it('authorises, commits and replays one job per call with exact charges', async () => {
    await accountFor(primary.services, { username: 'ann', restricted: true, initialCredit: 100 });
    const j = job({ pages: 3, copies: 2 });
    const auth = await rpc(c.printing, 'AuthorizeJob', { job: j });
    assert.deepEqual(auth, { jobId: j.jobId, decision: 'DECISION_ALLOW', reason: '', cost: 60, charged: true });
    assert.deepEqual(await balance('ann'), [100, 60]);
    const done = await rpc(c.printing, 'CommitJob', { jobId: j.jobId, printedPages: 4 });
    assert.deepEqual(done, { jobId: j.jobId, cost: 40 });
    assert.deepEqual(await rpc(c.printing, 'CommitJob', { jobId: j.jobId, printedPages: 4 }), done);
    assert.deepEqual(await balance('ann'), [60, 0]);
    const denied: AuthorizeJobResponse__Output = await rpc(c.printing, 'AuthorizeJob', { job: job({ pages: 7 }) });
    assert.equal(denied.decision, 'DECISION_DENY');
    assert.match(denied.reason, /not enough credit: this job costs \$0\.70 and you have \$0\.60 available/);
  });

  it('refuses a wrong secret and an unregistered secondary with UNAUTHENTICATED, changing nothing', async () => {
    await accountFor(primary.services, { username: 'ann', restricted: false });
    const wrong = clientsFor(primary.grpcPort, { name: 'print-1', secret: 'not-the-secret-at-all' });
    const stranger = clientsFor(primary.grpcPort, { name: 'print-9' });
    const anonymous = clientsFor(primary.grpcPort, {});
    try {
      await rejectsWithStatus(rpc(wrong.printing, 'AuthorizeJob', { job: job() }), grpc.status.UNAUTHENTICATED, /invalid cluster secret/);
      await rejectsWithStatus(rpc(wrong.cluster, 'Register', { name: 'evil', role: 'ROLE_PRINT' }), grpc.status.UNAUTHENTICATED);
      await rejectsWithStatus(rpc(stranger.printing, 'AuthorizeJob', { job: job() }), grpc.status.UNAUTHENTICATED, /unknown secondary print-9/);
      await rejectsWithStatus(rpc(anonymous.printing, 'AuthorizeJob', { job: job() }), grpc.status.UNAUTHENTICATED, /missing x-quotient-secondary/);
    } finally {
      wrong.close();
      stranger.close();
      anonymous.close();
    }
    assert.equal(
      await t.db
        .knex('print_jobs')
        .count({ n: '*' })
        .first()
        .then((r) => Number(r?.n)),
      0,
    );
    assert.equal(await t.db.knex('secondaries').where({ name: 'evil' }).first(), undefined);
  });

  it('answers INVALID_ARGUMENT for malformed or out-of-range fields', async () => {
    await rejectsWithStatus(rpc(c.printing, 'AuthorizeJob', {}), grpc.status.INVALID_ARGUMENT, /job is required/);
    await rejectsWithStatus(rpc(c.printing, 'AuthorizeJob', { job: job({ copies: 0 }) }), grpc.status.INVALID_ARGUMENT, /job\.copies/);
    await rejectsWithStatus(rpc(c.printing, 'AuthorizeJob', { job: job({ jobId: 'x'.repeat(300) }) }), grpc.status.INVALID_ARGUMENT, /job\.jobId/);
    await rejectsWithStatus(rpc(c.printing, 'AuthorizeJob', { job: job({ colourPages: 5, pages: 1 }) }), grpc.status.INVALID_ARGUMENT);
    await rejectsWithStatus(rpc(c.printing, 'CommitJob', { jobId: '' }), grpc.status.INVALID_ARGUMENT);
    await rejectsWithStatus(rpc(c.printing, 'CommitJob', { jobId: 'urn:uuid:unknown' }), grpc.status.NOT_FOUND);
    await rejectsWithStatus(rpc(c.cluster, 'Register', { name: 'bad name!', role: 'ROLE_PRINT' }), grpc.status.INVALID_ARGUMENT, /name/);
    await rejectsWithStatus(rpc(c.cluster, 'Register', { name: 'x', role: 'ROLE_UNSPECIFIED' }), grpc.status.INVALID_ARGUMENT, /role/);
    assert.equal(
      await t.db
        .knex('print_jobs')
        .count({ n: '*' })
        .first()
        .then((r) => Number(r?.n)),
      0,
    );
  });

  it('answers a batch in request order, with per-event errors', async () => {
    await accountFor(primary.services, { username: 'bob', restricted: false });
    const a = job({ username: 'bob', pages: 1 });
    const res = await rpc(c.printing, 'SubmitJobEvents', {
      events: [
        { authorize: { job: a } },
        { commit: { jobId: a.jobId } },
        { authorize: { job: job({ username: 'bob', copies: 0 }) } },
        { offline: { job: job({ username: 'bob', pages: 5 }), printedPages: 3 } },
        {},
      ],
    });
    const brief = res.results.map((r) => (r.result === 'error' ? `error:${r.error?.quotientCode}` : r.result));
    assert.deepEqual(brief, ['authorized', 'committed', 'error:VALIDATION', 'recorded', 'error:VALIDATION']);
    assert.equal(res.results[3]?.recorded?.cost, 30);
    assert.deepEqual(await balance('bob'), [-40, 0]);
  });

  it('streams results for streamed events', async () => {
    await accountFor(primary.services, { username: 'cat', restricted: false });
    const stream = c.printing.StreamJobEvents({ deadline: Date.now() + 10000 });
    const results: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      stream.on('data', (r: { jobId: string; result?: string }) => results.push(`${r.result}`));
      stream.on('end', () => resolve());
      stream.on('error', reject);
    });
    const jobs = Array.from({ length: 50 }, (_, i) => job({ username: 'cat', jobId: `urn:uuid:stream-${i}`, pages: 1 }));
    for (const j of jobs) stream.write({ authorize: { job: j } });
    for (const j of jobs) stream.write({ commit: { jobId: j.jobId } });
    stream.end();
    await done;
    assert.equal(results.filter((r) => r === 'authorized').length, 50);
    assert.equal(results.filter((r) => r === 'committed').length, 50);
    assert.deepEqual(await balance('cat'), [-500, 0]);
  });

  it('pushes blocked users and the configuration on Watch', async () => {
    await accountFor(primary.services, { username: 'broke', restricted: true, initialCredit: 0 });
    await accountFor(primary.services, { username: 'rich', restricted: true, initialCredit: 500 });
    const stream = c.cluster.Watch({});
    const events: ControlEvent__Output[] = [];
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (e: ControlEvent__Output) => {
        events.push(e);
        if (events.length === 2) resolve();
      });
      stream.on('error', reject);
    });
    stream.cancel();
    assert.deepEqual(
      events[0]?.blockedSnapshot?.users.map((u) => u.username),
      ['broke'],
    );
    assert.equal(events[0]?.sequence, 1);
    assert.deepEqual(
      events[1]?.config?.printers.map((p) => [p.queue, p.enabled, p.failureMode]),
      [['lab-laser', true, 'FAILURE_MODE_CHARGE_LATER']],
    );
  });

  it('pushes a block the moment a user runs out, and the unblock when credit arrives', async () => {
    await accountFor(primary.services, { username: 'dee', restricted: true, initialCredit: 30 });
    const stream = c.cluster.Watch({});
    const changes: string[] = [];
    let wake: () => void = () => undefined;
    stream.on('data', (e: ControlEvent__Output) => {
      if (e.blockChange) changes.push(`${e.blockChange.username}:${e.blockChange.blocked ? 'blocked' : 'unblocked'}:${e.blockChange.reason}`);
      wake();
    });
    stream.on('error', () => undefined);
    const until = (n: number): Promise<void> =>
      new Promise((resolve) => {
        wake = () => changes.length >= n && resolve();
        wake();
      });
    const j = job({ username: 'dee', pages: 3 });
    await rpc(c.printing, 'AuthorizeJob', { job: j }); // reserves all 30: nothing left to spend
    await until(1);
    await rpc(c.printing, 'CommitJob', { jobId: j.jobId });
    const dee = await primary.services.users.getByUsername('dee');
    const account = await primary.services.users.personalAccount(dee.id);
    await primary.services.ledger.credit({ accountId: account.id, amount: 100, type: 'card', key: 'topup-1' });
    await until(2);
    stream.cancel();
    assert.deepEqual(changes, ['dee:blocked:no credit left', 'dee:unblocked:']);
  });

  it('serves grpc.health.v1 without credentials', async () => {
    const health = await import('grpc-health-check');
    const { loadSync } = await import('@grpc/proto-loader');
    const def = grpc.loadPackageDefinition(loadSync(health.protoPath, { enums: String })) as unknown as {
      grpc: {
        health: {
          v1: {
            Health: new (
              a: string,
              c: grpc.ChannelCredentials,
            ) => grpc.Client & { check: (r: object, cb: (e: Error | null, r: { status: string }) => void) => void };
          };
        };
      };
    };
    const client = new def.grpc.health.v1.Health(`127.0.0.1:${primary.grpcPort}`, grpc.credentials.createInsecure());
    const status = await new Promise<string>((resolve, reject) =>
      client.check({ service: 'quotient.v1.Printing' }, (e, r) => (e ? reject(e) : resolve(r.status))),
    );
    client.close();
    assert.equal(status, 'SERVING');
  });
});
