/**
 * The gRPC floor of the charge bench: a Printing server in the bench's process with the primary's
 * transport settings that answers AuthorizeJob and CommitJob at once, with no authentication and
 * no database (grpc-js answers the other methods UNIMPLEMENTED). The load generator drives it with the secondary's own client exactly as it drives
 * the primary, so the line shows what grpc-js and that client cost on this machine by themselves:
 * the most any one-job-per-call server written on them could do here.
 */
import * as grpc from '@grpc/grpc-js';
import { GRPC_SERVER_OPTIONS } from '../primary/grpc/server';
import type { AuthorizeJobRequest__Output } from '../protos/generated/quotient/v1/AuthorizeJobRequest';
import type { AuthorizeJobResponse } from '../protos/generated/quotient/v1/AuthorizeJobResponse';
import type { CommitJobRequest__Output } from '../protos/generated/quotient/v1/CommitJobRequest';
import type { CommitJobResponse } from '../protos/generated/quotient/v1/CommitJobResponse';
import { loadQuotientProto } from '../protos/load';
import { BENCH_JOB_COST } from './charge-ipc';

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
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return { port, close: () => server.forceShutdown() };
}
