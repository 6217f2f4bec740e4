/**
 * Starts a real primary in this process on a test database (HTTP and gRPC on loopback, port 0),
 * and builds gRPC clients for it with the cluster's metadata, for integration tests.
 */
import * as grpc from '@grpc/grpc-js';
import { createLogger, type Logger } from '../../common/logger';
import { loadQuotientProto } from '../../protos/load';
import type { ClusterClient } from '../../protos/generated/quotient/v1/Cluster';
import type { PrintingClient } from '../../protos/generated/quotient/v1/Printing';
import { startPrimary, type StartOptions, type RunningPrimary } from '../../primary/boot';
import { loadPrimaryConfig, type PrimaryConfig } from '../../primary/config';
import type { TestDatabase } from './databases';

export const TEST_SECRET = 'test-cluster-secret-0123456789';

/**
 * `opts.logger` replaces the quiet test logger (to assert what a request logs); `opts.signinSleep`
 * replaces the wait of a slowed sign-in (to record it instead of waiting).
 */
export async function startTestPrimary(
  t: TestDatabase,
  extra: Partial<Record<keyof PrimaryConfig, unknown>> = {},
  opts: { logger?: Logger } & StartOptions = {},
): Promise<RunningPrimary> {
  const config = loadPrimaryConfig({
    env: {},
    flags: {
      dataDir: t.dataDir,
      databaseUrl: t.url,
      httpHost: '127.0.0.1',
      httpPort: 0,
      grpcHost: '127.0.0.1',
      grpcPort: 0,
      clusterSecret: TEST_SECRET,
      adminPassword: 'admin-password-for-tests',
      shutdownGraceSeconds: 2,
      ...extra,
    },
  });
  return startPrimary(
    config,
    opts.logger ?? createLogger('test-primary', process.env.QUOTIENT_LOG_LEVEL ?? 'silent'),
    () => undefined,
    opts.signinSleep ? { signinSleep: opts.signinSleep } : {},
  );
}

/** The primary a describe shares; `primary` and `base` are valid inside its hooks and tests. */
export interface SharedPrimary {
  readonly primary: RunningPrimary;
  /** `http://127.0.0.1:<port>` of its web tools. */
  readonly base: string;
  /** Stops it (a test of what happens while the primary is away); the next start() or test starts it again. */
  stop(): Promise<void>;
  /** Starts it again after stop(), on the same database, settings and gRPC port (where secondaries reconnect). */
  start(): Promise<void>;
  /** stop() and start(): a test of what survives a restart. */
  restart(): Promise<void>;
}

/**
 * One primary for the enclosing describe of describeOnEachDatabase or describeEndToEnd, started in
 * its `before` and stopped in its `after`, instead of one per test. The describe empties every
 * table before each test; this tells the primary so (RunningPrimary.tablesEmptied: caches dropped,
 * first administrator back), so each test still meets a freshly started primary. Call it before
 * the describe's own beforeEach hooks, which then run after the emptying.
 */
export function sharedPrimary(
  t: TestDatabase,
  extra: Partial<Record<keyof PrimaryConfig, unknown>> = {},
  opts: { logger?: Logger } & StartOptions = {},
): SharedPrimary {
  let current: RunningPrimary | undefined;
  let grpcPort: number | undefined;
  const running = (): RunningPrimary => {
    if (!current) throw new Error('the shared primary is not running (use it inside hooks and tests, and start() it after stop())');
    return current;
  };
  const start = async (): Promise<void> => {
    current = await startTestPrimary(t, grpcPort === undefined ? extra : { ...extra, grpcPort }, opts);
    grpcPort = current.grpcPort;
  };
  const stop = async (): Promise<void> => {
    const stopping = current;
    current = undefined;
    await stopping?.shutdown();
  };
  before(start);
  beforeEach(async () => {
    if (!current) await start(); // an earlier test stopped it and failed before starting it again
    await running().tablesEmptied();
  });
  after(stop);
  return {
    get primary() {
      return running();
    },
    get base() {
      return `http://127.0.0.1:${running().httpPort}`;
    },
    stop,
    start,
    async restart() {
      await stop();
      await start();
    },
  };
}

export interface TestClients {
  cluster: ClusterClient;
  printing: PrintingClient;
  close(): void;
}

/** Clients that send `secret` and `name` on every call (pass wrong ones to test refusal). */
export function clientsFor(port: number, opts: { name?: string; secret?: string; credentials?: grpc.ChannelCredentials; host?: string } = {}): TestClients {
  const proto = loadQuotientProto();
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${opts.secret ?? TEST_SECRET}`);
  if (opts.name !== undefined) metadata.set('x-quotient-secondary', opts.name);
  const callCreds = grpc.credentials.createFromMetadataGenerator((_params, callback) => callback(null, metadata));
  const channel = opts.credentials
    ? grpc.credentials.combineChannelCredentials(opts.credentials, callCreds)
    : // insecure channels cannot carry call credentials, so metadata goes through an interceptor
      grpc.credentials.createInsecure();
  const interceptors = opts.credentials
    ? []
    : [
        (options: grpc.InterceptorOptions, next: grpc.NextCall) =>
          new grpc.InterceptingCall(next(options), {
            start(md, listener, nextStart) {
              md.merge(metadata);
              nextStart(md, listener);
            },
          }),
      ];
  const address = `${opts.host ?? '127.0.0.1'}:${port}`;
  const cluster = new proto.quotient.v1.Cluster(address, channel, { interceptors });
  const printing = new proto.quotient.v1.Printing(address, channel, { interceptors });
  return {
    cluster,
    printing,
    close() {
      cluster.close();
      printing.close();
    },
  };
}

/** The request and response types of a generated unary client method (its last overload). */
type UnaryMethod<Req, Res> = (req: Req, md: grpc.Metadata, opts: grpc.CallOptions, cb: grpc.requestCallback<Res>) => grpc.ClientUnaryCall;
type RequestOf<F> = F extends (req: infer Req, cb: grpc.requestCallback<infer _Res>) => grpc.ClientUnaryCall ? Req : never;
type ResponseOf<F> = F extends (req: infer _Req, cb: grpc.requestCallback<infer Res>) => grpc.ClientUnaryCall ? Res : never;

/** Calls a unary method of a generated client as a promise, with a deadline: rpc(c.printing, 'AuthorizeJob', {...}). */
export function rpc<C extends grpc.Client, M extends keyof C & string>(
  client: C,
  method: M,
  req: RequestOf<C[M]>,
  timeoutMs = 5000,
): Promise<ResponseOf<C[M]>> {
  const fn = (client[method] as unknown as UnaryMethod<RequestOf<C[M]>, ResponseOf<C[M]>>).bind(client);
  return new Promise((resolve, reject) => {
    fn(req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res as ResponseOf<C[M]>)));
  });
}

/** A user's print ledger rows, oldest first, as [idempotency key, amount]: what an exact-charge assertion compares. */
export async function printRows(primary: RunningPrimary, username: string): Promise<[string, number][]> {
  const user = await primary.services.users.getByUsername(username);
  const account = await primary.services.users.personalAccount(user.id);
  const rows = (await primary.services.db
    .knex('ledger')
    .where({ account_id: account.id, type: 'print' })
    .orderBy('id')
    .select('idempotency_key', 'amount')) as { idempotency_key: string; amount: number | string }[];
  return rows.map((r) => [r.idempotency_key, Number(r.amount)]);
}
