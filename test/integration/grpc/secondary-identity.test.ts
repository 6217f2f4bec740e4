/**
 * Who may call what (docs/cluster.md, "Authentication"), with raw gRPC clients against a real
 * primary: every RPC but Register and health needs the name of a registered secondary, spelt
 * exactly; and a secondary commits, releases or records only the jobs it authorised itself.
 */
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { loadQuotientProto } from '../../../protos/load';
import type { RunningPrimary } from '../../../primary/boot';
import type { PrintJob } from '../../../protos/generated/quotient/v1/PrintJob';
import { describeOnEachDatabase } from '../../utils/databases';
import { accountFor } from '../../utils/fixtures';
import { clientsFor, rpc, sharedPrimary, TEST_SECRET, type TestClients } from '../../utils/primary';

let seq = 0;
const job = (overrides: Partial<PrintJob> = {}): PrintJob & { jobId: string } =>
  ({ jobId: `urn:uuid:identity-${process.pid}-${++seq}`, queue: 'lab', username: 'ann', pages: 1, copies: 1, ...overrides }) as PrintJob & { jobId: string };

function statusOf(promise: Promise<unknown>): Promise<[grpc.status, string] | 'ok'> {
  return promise.then(
    () => 'ok' as const,
    (err: grpc.ServiceError) => [err.code, err.details],
  );
}

describeOnEachDatabase('secondary identity on the primary gRPC server', (t) => {
  let primary: RunningPrimary;
  let one: TestClients;
  let two: TestClients;

  const register = (c: TestClients, name: string): Promise<unknown> =>
    rpc(c.cluster, 'Register', {
      name,
      role: 'ROLE_PRINT',
      version: '0.1.0',
      host: name,
      printers: [{ queue: 'lab', description: '', location: '', deviceUri: '' }],
    });
  const balance = async (username: string): Promise<[number, number]> => {
    const u = await primary.services.users.getByUsername(username);
    const a = await primary.services.users.personalAccount(u.id);
    return [a.balance, a.reserved];
  };
  const jobCount = async (): Promise<number> => Number(((await t.db.knex('print_jobs').count({ n: '*' })) as { n: number | string }[])[0]?.n);

  const shared = sharedPrimary(t);

  beforeEach(async () => {
    primary = shared.primary;
    one = clientsFor(primary.grpcPort, { name: 'print-1' });
    two = clientsFor(primary.grpcPort, { name: 'print-2' });
    await register(one, 'print-1');
    await register(two, 'print-2');
    await accountFor(primary.services, { username: 'ann', restricted: true, initialCredit: 100 });
  });

  afterEach(async () => {
    one.close();
    two.close();
  });

  it('answers UNAUTHENTICATED to every call without a secondary name, whatever the RPC, and changes nothing', async () => {
    const anonymous = clientsFor(primary.grpcPort, {});
    const proto = loadQuotientProto();
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${TEST_SECRET}`);
    const internet = new proto.quotient.v1.Internet(`127.0.0.1:${primary.grpcPort}`, grpc.credentials.createInsecure());
    const j = job();
    const stream = <T>(
      open: () => grpc.ClientReadableStream<T> | grpc.ClientDuplexStream<unknown, T>,
      write?: (s: grpc.ClientDuplexStream<unknown, T>) => void,
    ): Promise<unknown> =>
      new Promise((resolve, reject) => {
        const s = open();
        s.on('data', resolve);
        s.on('error', reject);
        s.on('end', () => resolve(undefined));
        write?.(s as grpc.ClientDuplexStream<unknown, T>);
      });
    try {
      const calls: Record<string, Promise<unknown>> = {
        Heartbeat: rpc(anonymous.cluster, 'Heartbeat', { outboxDepth: 5 }),
        Watch: stream(() => anonymous.cluster.Watch({})),
        AuthorizeJob: rpc(anonymous.printing, 'AuthorizeJob', { job: j }),
        CommitJob: rpc(anonymous.printing, 'CommitJob', { jobId: j.jobId }),
        ReleaseJob: rpc(anonymous.printing, 'ReleaseJob', { jobId: j.jobId }),
        SubmitJobEvents: rpc(anonymous.printing, 'SubmitJobEvents', { events: [{ authorize: { job: job() } }] }),
        StreamJobEvents: stream(
          () => anonymous.printing.StreamJobEvents(),
          (s) => {
            s.write({ authorize: { job: job() } });
            s.end();
          },
        ),
        ReportUsage: new Promise((resolve, reject) =>
          internet.ReportUsage(
            { reportId: 'r-1', intervalStartMs: 1, intervalEndMs: 2, lines: [{ username: 'ann', domain: 'example.org', bytesIn: 1_000_000 }] },
            md,
            (err, res) => (err ? reject(err) : resolve(res)),
          ),
        ),
      };
      for (const [name, call] of Object.entries(calls)) {
        assert.deepEqual(await statusOf(call), [grpc.status.UNAUTHENTICATED, 'missing x-quotient-secondary'], name);
      }
    } finally {
      anonymous.close();
      internet.close();
    }
    assert.equal(await jobCount(), 0);
    assert.deepEqual(await balance('ann'), [100, 0]);
    assert.equal(Number(((await t.db.knex('internet_reports').count({ n: '*' })) as { n: number | string }[])[0]?.n), 0);
    assert.equal((await primary.secondaries.get('print-1'))?.outboxDepth, 0);
  });

  it('answers UNAUTHENTICATED to a name that is not registered exactly as spelt', async () => {
    for (const name of ['print-9', 'PRINT-1', 'print-1.']) {
      const stranger = clientsFor(primary.grpcPort, { name });
      try {
        assert.deepEqual(
          await statusOf(rpc(stranger.printing, 'AuthorizeJob', { job: job() })),
          [grpc.status.UNAUTHENTICATED, `unknown secondary ${name}: register first`],
          name,
        );
      } finally {
        stranger.close();
      }
    }
    assert.equal(await jobCount(), 0);
    // gRPC trims metadata values, but the registry compares exactly too (MariaDB's PAD SPACE collation would not).
    assert.equal(await primary.secondaries.isRegistered('print-1 '), false);
    assert.equal(await primary.secondaries.isRegistered('print-1'), true);
  });

  it("refuses with PERMISSION_DENIED to commit, release, record or authorise again another secondary's job, and the job stays its own", async () => {
    const j = job({ pages: 3 });
    assert.equal((await rpc(one.printing, 'AuthorizeJob', { job: j })).decision, 'DECISION_ALLOW');
    assert.deepEqual(await balance('ann'), [100, 30]);

    const denied = [grpc.status.PERMISSION_DENIED, `job ${j.jobId} was authorised by another secondary`];
    assert.deepEqual(await statusOf(rpc(two.printing, 'CommitJob', { jobId: j.jobId, printedPages: 1 })), denied);
    assert.deepEqual(await statusOf(rpc(two.printing, 'ReleaseJob', { jobId: j.jobId, reason: 'mine now' })), denied);
    assert.deepEqual(await statusOf(rpc(two.printing, 'AuthorizeJob', { job: j })), denied);
    const batch = await rpc(two.printing, 'SubmitJobEvents', {
      events: [{ commit: { jobId: j.jobId } }, { release: { jobId: j.jobId } }, { offline: { job: j, printedPages: 1 } }],
    });
    assert.deepEqual(
      batch.results.map((r) => [r.result, r.error?.code, r.error?.quotientCode]),
      [
        ['error', grpc.status.PERMISSION_DENIED, 'FORBIDDEN'],
        ['error', grpc.status.PERMISSION_DENIED, 'FORBIDDEN'],
        ['error', grpc.status.PERMISSION_DENIED, 'FORBIDDEN'],
      ],
    );
    assert.deepEqual(await balance('ann'), [100, 30]);
    const row = await t.db.knex('print_jobs').where({ job_uuid: j.jobId }).first('status', 'secondary');
    assert.deepEqual([row.status, row.secondary], ['authorised', 'print-1']);

    // The secondary that authorised it still settles it.
    assert.deepEqual(await rpc(one.printing, 'CommitJob', { jobId: j.jobId }), { jobId: j.jobId, cost: 30 });
    assert.deepEqual(await balance('ann'), [70, 0]);
    // Releasing a job nobody authorised is still harmless for anyone.
    assert.deepEqual(await rpc(two.printing, 'ReleaseJob', { jobId: 'urn:uuid:never-seen', reason: '' }), { jobId: 'urn:uuid:never-seen' });
  });
});
