/**
 * The gRPC floor of the charge bench: a Printing server in the bench's process with the primary's
 * transport settings that answers every job event at once (one per call, batched or streamed), with no authentication and
 * no database (grpc-js answers the other methods UNIMPLEMENTED). The load generator drives it with the secondary's own client exactly as it drives
 * the primary, so the line shows what grpc-js and that client cost on this machine by themselves:
 * the most any server written on them could do here with each shape.
 */
import * as grpc from '@grpc/grpc-js';
import { GRPC_SERVER_OPTIONS } from '../primary/grpc/server';
import type { AuthorizeJobRequest__Output } from '../protos/generated/quotient/v1/AuthorizeJobRequest';
import type { AuthorizeJobResponse } from '../protos/generated/quotient/v1/AuthorizeJobResponse';
import type { CommitJobRequest__Output } from '../protos/generated/quotient/v1/CommitJobRequest';
import type { CommitJobResponse } from '../protos/generated/quotient/v1/CommitJobResponse';
import type { JobEvent__Output } from '../protos/generated/quotient/v1/JobEvent';
import type { JobEventBatch__Output } from '../protos/generated/quotient/v1/JobEventBatch';
import type { JobEventResult } from '../protos/generated/quotient/v1/JobEventResult';
import type { JobEventResults } from '../protos/generated/quotient/v1/JobEventResults';
import { loadQuotientProto } from '../protos/load';
import { BENCH_JOB_COST } from './charge-ipc';

/** What the primary would answer for a bench job's event: allowed, or charged BENCH_JOB_COST. */
function answer(ev: JobEvent__Output): JobEventResult {
  const jobId = ev.authorize?.job?.jobId ?? ev.commit?.jobId ?? '';
  if (ev.authorize) return { jobId, authorized: { jobId, decision: 'DECISION_ALLOW', reason: '', cost: BENCH_JOB_COST, charged: true } };
  return { jobId, committed: { jobId, cost: BENCH_JOB_COST } };
}

export interface FloorServer {
  port: number;
  close(): void;
}

export async function startFloorServer(): Promise<FloorServer> {
  const server = new grpc.Server(GRPC_SERVER_OPTIONS);
  server.addService(loadQuotientProto().quotient.v1.Printing.service, {
    AuthorizeJob: (call: grpc.ServerUnaryCall<AuthorizeJobRequest__Output, AuthorizeJobResponse>, callback: grpc.sendUnaryData<AuthorizeJobResponse>) =>
      callback(null, { jobId: call.request.job?.jobId ?? '', decision: 'DECISION_ALLOW', reason: '', cost: BENCH_JOB_COST, charged: true }),
    CommitJob: (call: grpc.ServerUnaryCall<CommitJobRequest__Output, CommitJobResponse>, callback: grpc.sendUnaryData<CommitJobResponse>) =>
      callback(null, { jobId: call.request.jobId, cost: BENCH_JOB_COST }),
    SubmitJobEvents: (call: grpc.ServerUnaryCall<JobEventBatch__Output, JobEventResults>, callback: grpc.sendUnaryData<JobEventResults>) =>
      callback(null, { results: call.request.events.map(answer) }),
    StreamJobEvents: (call: grpc.ServerDuplexStream<JobEvent__Output, JobEventResult>) => {
      call.on('data', (ev: JobEvent__Output) => call.write(answer(ev)));
      call.on('end', () => call.end());
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { port, close: () => server.forceShutdown() };
}
