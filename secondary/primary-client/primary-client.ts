/**
 * The secondary's gRPC clients for its primary, built from loadQuotientProto() over one channel:
 * every call carries the cluster metadata (authorization: Bearer <secret>, x-quotient-secondary:
 * <name>) and a deadline (STYLE practice 9); the channel uses TLS when a CA is configured and
 * mutual TLS when a certificate and key are too. Calls are promises; an AbortSignal cancels one.
 */
import fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { ConfigError } from '../../common/errors';
import { loadQuotientProto } from '../../protos/load';
import type { ClusterClient } from '../../protos/generated/quotient/v1/Cluster';
import type { ControlEvent__Output } from '../../protos/generated/quotient/v1/ControlEvent';
import type { HeartbeatRequest } from '../../protos/generated/quotient/v1/HeartbeatRequest';
import type { HeartbeatResponse__Output } from '../../protos/generated/quotient/v1/HeartbeatResponse';
import type { InternetClient } from '../../protos/generated/quotient/v1/Internet';
import type { AuthorizeJobRequest } from '../../protos/generated/quotient/v1/AuthorizeJobRequest';
import type { AuthorizeJobResponse__Output } from '../../protos/generated/quotient/v1/AuthorizeJobResponse';
import type { CommitJobRequest } from '../../protos/generated/quotient/v1/CommitJobRequest';
import type { CommitJobResponse__Output } from '../../protos/generated/quotient/v1/CommitJobResponse';
import type { JobEventBatch } from '../../protos/generated/quotient/v1/JobEventBatch';
import type { JobEventResults__Output } from '../../protos/generated/quotient/v1/JobEventResults';
import type { PrintingClient } from '../../protos/generated/quotient/v1/Printing';
import type { RegisterRequest } from '../../protos/generated/quotient/v1/RegisterRequest';
import type { RegisterResponse__Output } from '../../protos/generated/quotient/v1/RegisterResponse';
import type { ReleaseJobRequest } from '../../protos/generated/quotient/v1/ReleaseJobRequest';
import type { ReleaseJobResponse__Output } from '../../protos/generated/quotient/v1/ReleaseJobResponse';
import type { UsageReport } from '../../protos/generated/quotient/v1/UsageReport';
import type { UsageReportResult__Output } from '../../protos/generated/quotient/v1/UsageReportResult';
import type { SecondaryConfig } from '../config';

export interface TlsMaterial {
  ca: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** Name to verify in the primary's certificate (and send as SNI) instead of the address's host. */
  serverName?: string;
}

export interface PrimaryClientOptions {
  /** host:port of the primary's gRPC server. */
  address: string;
  /** This secondary's registered name. */
  name: string;
  clusterSecret: string;
  /** Default deadline of a unary call. */
  callDeadlineMs: number;
  tls?: TlsMaterial;
}

export interface CallOptions {
  /** Overrides the default deadline (batches take longer than one job). */
  deadlineMs?: number;
  /** Cancels the call (CANCELLED) when aborted. */
  signal?: AbortSignal;
}

/** Reads the TLS files named by the config; an unreadable file stops the start with its name. */
export function primaryClientOptions(config: SecondaryConfig): PrimaryClientOptions {
  const read = (file: string, setting: string): Buffer => {
    try {
      return fs.readFileSync(file);
    } catch (err) {
      throw new ConfigError(`cannot read ${setting} ${file}: ${(err as Error).message}`, { setting, file });
    }
  };
  const opts: PrimaryClientOptions = {
    address: config.primary,
    name: config.name,
    clusterSecret: config.clusterSecret,
    callDeadlineMs: config.callDeadlineMs,
  };
  if (config.tlsCa !== undefined) {
    opts.tls = { ca: read(config.tlsCa, 'tlsCa') };
    if (config.tlsServerName !== undefined) opts.tls.serverName = config.tlsServerName;
    if (config.tlsCert !== undefined && config.tlsKey !== undefined) {
      opts.tls.cert = read(config.tlsCert, 'tlsCert');
      opts.tls.key = read(config.tlsKey, 'tlsKey');
    }
  }
  return opts;
}

/**
 * Channel settings. grpc-js backs off reconnects up to 120 s by default, which would keep a
 * secondary failing fast for two minutes after its primary came back; 5 s keeps the catch-up
 * prompt. Keepalive pings notice a primary whose host vanished without closing the connection,
 * so the Watch stream does not hang on a dead peer. Channelz (per-call statistics for a debugging
 * service the secondary does not serve) is off: it costs about a tenth of each call's CPU.
 */
const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.initial_reconnect_backoff_ms': 250,
  'grpc.max_reconnect_backoff_ms': 5000,
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
  // No channelz service is served, so its per-call statistics are pure cost.
  'grpc.enable_channelz': 0,
};

type Unary<Req, Res> = (req: Req, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<Res>) => grpc.ClientUnaryCall;

export class PrimaryClient {
  readonly address: string;
  private readonly channel: grpc.Channel;
  private readonly cluster: ClusterClient;
  private readonly printing: PrintingClient;
  private readonly internet: InternetClient;
  private readonly opts: PrimaryClientOptions;
  private closed = false;

  constructor(opts: PrimaryClientOptions) {
    this.opts = opts;
    this.address = opts.address;
    const credentials = opts.tls ? grpc.credentials.createSsl(opts.tls.ca, opts.tls.key ?? null, opts.tls.cert ?? null) : grpc.credentials.createInsecure();
    const channelOptions: grpc.ChannelOptions = opts.tls?.serverName
      ? { ...CHANNEL_OPTIONS, 'grpc.ssl_target_name_override': opts.tls.serverName, 'grpc.default_authority': opts.tls.serverName }
      : CHANNEL_OPTIONS;
    this.channel = new grpc.Channel(opts.address, credentials, channelOptions);
    const proto = loadQuotientProto().quotient.v1;
    const shared = { channelOverride: this.channel };
    this.cluster = new proto.Cluster(opts.address, credentials, shared);
    this.printing = new proto.Printing(opts.address, credentials, shared);
    this.internet = new proto.Internet(opts.address, credentials, shared);
  }

  /** The two entries the primary's auth interceptor checks, fresh for every call. */
  metadata(): grpc.Metadata {
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${this.opts.clusterSecret}`);
    md.set('x-quotient-secondary', this.opts.name);
    return md;
  }

  register(req: RegisterRequest, call?: CallOptions): Promise<RegisterResponse__Output> {
    return this.unary(this.cluster.register.bind(this.cluster), req, call);
  }

  heartbeat(req: HeartbeatRequest, call?: CallOptions): Promise<HeartbeatResponse__Output> {
    return this.unary(this.cluster.heartbeat.bind(this.cluster), req, call);
  }

  /** Opens the control stream. It has no deadline: it stays open until either side ends it. */
  watch(): grpc.ClientReadableStream<ControlEvent__Output> {
    return this.cluster.watch({}, this.metadata());
  }

  authorizeJob(req: AuthorizeJobRequest, call?: CallOptions): Promise<AuthorizeJobResponse__Output> {
    return this.unary(this.printing.authorizeJob.bind(this.printing), req, call);
  }

  commitJob(req: CommitJobRequest, call?: CallOptions): Promise<CommitJobResponse__Output> {
    return this.unary(this.printing.commitJob.bind(this.printing), req, call);
  }

  releaseJob(req: ReleaseJobRequest, call?: CallOptions): Promise<ReleaseJobResponse__Output> {
    return this.unary(this.printing.releaseJob.bind(this.printing), req, call);
  }

  submitJobEvents(batch: JobEventBatch, call?: CallOptions): Promise<JobEventResults__Output> {
    return this.unary(this.printing.submitJobEvents.bind(this.printing), batch, call);
  }

  reportUsage(report: UsageReport, call?: CallOptions): Promise<UsageReportResult__Output> {
    return this.unary(this.internet.reportUsage.bind(this.internet), report, call);
  }

  /** The channel's connectivity, for the status answer. */
  connectivity(): grpc.connectivityState {
    return this.channel.getConnectivityState(false);
  }

  /** Closes the channel; calls still in flight end with CANCELLED. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.cluster.close();
    this.printing.close();
    this.internet.close();
    this.channel.close();
  }

  private unary<Req, Res>(method: Unary<Req, Res>, req: Req, call: CallOptions = {}): Promise<Res> {
    if (call.signal?.aborted) {
      return Promise.reject(Object.assign(new Error('call cancelled before it started'), { code: grpc.status.CANCELLED, details: 'cancelled' }));
    }
    const deadline = Date.now() + (call.deadlineMs ?? this.opts.callDeadlineMs);
    return new Promise<Res>((resolve, reject) => {
      const onAbort = (): void => pending.cancel();
      const pending = method(req, this.metadata(), { deadline }, (err, value) => {
        call.signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else if (value === undefined) reject(Object.assign(new Error('empty answer'), { code: grpc.status.INTERNAL, details: 'empty answer' }));
        else resolve(value);
      });
      call.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
