// Original file: protos/quotient/v1/printing.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AuthorizeJobRequest as _quotient_v1_AuthorizeJobRequest, AuthorizeJobRequest__Output as _quotient_v1_AuthorizeJobRequest__Output } from '../../quotient/v1/AuthorizeJobRequest';
import type { AuthorizeJobResponse as _quotient_v1_AuthorizeJobResponse, AuthorizeJobResponse__Output as _quotient_v1_AuthorizeJobResponse__Output } from '../../quotient/v1/AuthorizeJobResponse';
import type { CommitJobRequest as _quotient_v1_CommitJobRequest, CommitJobRequest__Output as _quotient_v1_CommitJobRequest__Output } from '../../quotient/v1/CommitJobRequest';
import type { CommitJobResponse as _quotient_v1_CommitJobResponse, CommitJobResponse__Output as _quotient_v1_CommitJobResponse__Output } from '../../quotient/v1/CommitJobResponse';
import type { JobEvent as _quotient_v1_JobEvent, JobEvent__Output as _quotient_v1_JobEvent__Output } from '../../quotient/v1/JobEvent';
import type { JobEventBatch as _quotient_v1_JobEventBatch, JobEventBatch__Output as _quotient_v1_JobEventBatch__Output } from '../../quotient/v1/JobEventBatch';
import type { JobEventResult as _quotient_v1_JobEventResult, JobEventResult__Output as _quotient_v1_JobEventResult__Output } from '../../quotient/v1/JobEventResult';
import type { JobEventResults as _quotient_v1_JobEventResults, JobEventResults__Output as _quotient_v1_JobEventResults__Output } from '../../quotient/v1/JobEventResults';
import type { ReleaseJobRequest as _quotient_v1_ReleaseJobRequest, ReleaseJobRequest__Output as _quotient_v1_ReleaseJobRequest__Output } from '../../quotient/v1/ReleaseJobRequest';
import type { ReleaseJobResponse as _quotient_v1_ReleaseJobResponse, ReleaseJobResponse__Output as _quotient_v1_ReleaseJobResponse__Output } from '../../quotient/v1/ReleaseJobResponse';

export interface PrintingClient extends grpc.Client {
  /**
   * One job per call. The primary groups concurrent calls into one database commit.
   */
  AuthorizeJob(argument: _quotient_v1_AuthorizeJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quotient_v1_AuthorizeJobResponse__Output>): grpc.ClientUnaryCall;
  AuthorizeJob(argument: _quotient_v1_AuthorizeJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quotient_v1_AuthorizeJobResponse__Output>): grpc.ClientUnaryCall;
  AuthorizeJob(argument: _quotient_v1_AuthorizeJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quotient_v1_AuthorizeJobResponse__Output>): grpc.ClientUnaryCall;
  AuthorizeJob(argument: _quotient_v1_AuthorizeJobRequest, callback: grpc.requestCallback<_quotient_v1_AuthorizeJobResponse__Output>): grpc.ClientUnaryCall;
  /**
   * One job per call. The primary groups concurrent calls into one database commit.
   */
  authorizeJob(argument: _quotient_v1_AuthorizeJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quotient_v1_AuthorizeJobResponse__Output>): grpc.ClientUnaryCall;
  authorizeJob(argument: _quotient_v1_AuthorizeJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quotient_v1_AuthorizeJobResponse__Output>): grpc.ClientUnaryCall;
  authorizeJob(argument: _quotient_v1_AuthorizeJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quotient_v1_AuthorizeJobResponse__Output>): grpc.ClientUnaryCall;
  authorizeJob(argument: _quotient_v1_AuthorizeJobRequest, callback: grpc.requestCallback<_quotient_v1_AuthorizeJobResponse__Output>): grpc.ClientUnaryCall;
  
  CommitJob(argument: _quotient_v1_CommitJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quotient_v1_CommitJobResponse__Output>): grpc.ClientUnaryCall;
  CommitJob(argument: _quotient_v1_CommitJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quotient_v1_CommitJobResponse__Output>): grpc.ClientUnaryCall;
  CommitJob(argument: _quotient_v1_CommitJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quotient_v1_CommitJobResponse__Output>): grpc.ClientUnaryCall;
  CommitJob(argument: _quotient_v1_CommitJobRequest, callback: grpc.requestCallback<_quotient_v1_CommitJobResponse__Output>): grpc.ClientUnaryCall;
  commitJob(argument: _quotient_v1_CommitJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quotient_v1_CommitJobResponse__Output>): grpc.ClientUnaryCall;
  commitJob(argument: _quotient_v1_CommitJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quotient_v1_CommitJobResponse__Output>): grpc.ClientUnaryCall;
  commitJob(argument: _quotient_v1_CommitJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quotient_v1_CommitJobResponse__Output>): grpc.ClientUnaryCall;
  commitJob(argument: _quotient_v1_CommitJobRequest, callback: grpc.requestCallback<_quotient_v1_CommitJobResponse__Output>): grpc.ClientUnaryCall;
  
  ReleaseJob(argument: _quotient_v1_ReleaseJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quotient_v1_ReleaseJobResponse__Output>): grpc.ClientUnaryCall;
  ReleaseJob(argument: _quotient_v1_ReleaseJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quotient_v1_ReleaseJobResponse__Output>): grpc.ClientUnaryCall;
  ReleaseJob(argument: _quotient_v1_ReleaseJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quotient_v1_ReleaseJobResponse__Output>): grpc.ClientUnaryCall;
  ReleaseJob(argument: _quotient_v1_ReleaseJobRequest, callback: grpc.requestCallback<_quotient_v1_ReleaseJobResponse__Output>): grpc.ClientUnaryCall;
  releaseJob(argument: _quotient_v1_ReleaseJobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quotient_v1_ReleaseJobResponse__Output>): grpc.ClientUnaryCall;
  releaseJob(argument: _quotient_v1_ReleaseJobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quotient_v1_ReleaseJobResponse__Output>): grpc.ClientUnaryCall;
  releaseJob(argument: _quotient_v1_ReleaseJobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quotient_v1_ReleaseJobResponse__Output>): grpc.ClientUnaryCall;
  releaseJob(argument: _quotient_v1_ReleaseJobRequest, callback: grpc.requestCallback<_quotient_v1_ReleaseJobResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * The same, streamed: each result is sent once its event is durably committed.
   */
  StreamJobEvents(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_quotient_v1_JobEvent, _quotient_v1_JobEventResult__Output>;
  StreamJobEvents(options?: grpc.CallOptions): grpc.ClientDuplexStream<_quotient_v1_JobEvent, _quotient_v1_JobEventResult__Output>;
  /**
   * The same, streamed: each result is sent once its event is durably committed.
   */
  streamJobEvents(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_quotient_v1_JobEvent, _quotient_v1_JobEventResult__Output>;
  streamJobEvents(options?: grpc.CallOptions): grpc.ClientDuplexStream<_quotient_v1_JobEvent, _quotient_v1_JobEventResult__Output>;
  
  /**
   * Many job events in one call, answered together after one durable commit; results are in
   * request order. Used by the outbox to replay after an outage.
   */
  SubmitJobEvents(argument: _quotient_v1_JobEventBatch, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quotient_v1_JobEventResults__Output>): grpc.ClientUnaryCall;
  SubmitJobEvents(argument: _quotient_v1_JobEventBatch, metadata: grpc.Metadata, callback: grpc.requestCallback<_quotient_v1_JobEventResults__Output>): grpc.ClientUnaryCall;
  SubmitJobEvents(argument: _quotient_v1_JobEventBatch, options: grpc.CallOptions, callback: grpc.requestCallback<_quotient_v1_JobEventResults__Output>): grpc.ClientUnaryCall;
  SubmitJobEvents(argument: _quotient_v1_JobEventBatch, callback: grpc.requestCallback<_quotient_v1_JobEventResults__Output>): grpc.ClientUnaryCall;
  /**
   * Many job events in one call, answered together after one durable commit; results are in
   * request order. Used by the outbox to replay after an outage.
   */
  submitJobEvents(argument: _quotient_v1_JobEventBatch, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quotient_v1_JobEventResults__Output>): grpc.ClientUnaryCall;
  submitJobEvents(argument: _quotient_v1_JobEventBatch, metadata: grpc.Metadata, callback: grpc.requestCallback<_quotient_v1_JobEventResults__Output>): grpc.ClientUnaryCall;
  submitJobEvents(argument: _quotient_v1_JobEventBatch, options: grpc.CallOptions, callback: grpc.requestCallback<_quotient_v1_JobEventResults__Output>): grpc.ClientUnaryCall;
  submitJobEvents(argument: _quotient_v1_JobEventBatch, callback: grpc.requestCallback<_quotient_v1_JobEventResults__Output>): grpc.ClientUnaryCall;
  
}

export interface PrintingHandlers extends grpc.UntypedServiceImplementation {
  /**
   * One job per call. The primary groups concurrent calls into one database commit.
   */
  AuthorizeJob: grpc.handleUnaryCall<_quotient_v1_AuthorizeJobRequest__Output, _quotient_v1_AuthorizeJobResponse>;
  
  CommitJob: grpc.handleUnaryCall<_quotient_v1_CommitJobRequest__Output, _quotient_v1_CommitJobResponse>;
  
  ReleaseJob: grpc.handleUnaryCall<_quotient_v1_ReleaseJobRequest__Output, _quotient_v1_ReleaseJobResponse>;
  
  /**
   * The same, streamed: each result is sent once its event is durably committed.
   */
  StreamJobEvents: grpc.handleBidiStreamingCall<_quotient_v1_JobEvent__Output, _quotient_v1_JobEventResult>;
  
  /**
   * Many job events in one call, answered together after one durable commit; results are in
   * request order. Used by the outbox to replay after an outage.
   */
  SubmitJobEvents: grpc.handleUnaryCall<_quotient_v1_JobEventBatch__Output, _quotient_v1_JobEventResults>;
  
}

export interface PrintingDefinition extends grpc.ServiceDefinition {
  AuthorizeJob: MethodDefinition<_quotient_v1_AuthorizeJobRequest, _quotient_v1_AuthorizeJobResponse, _quotient_v1_AuthorizeJobRequest__Output, _quotient_v1_AuthorizeJobResponse__Output>
  CommitJob: MethodDefinition<_quotient_v1_CommitJobRequest, _quotient_v1_CommitJobResponse, _quotient_v1_CommitJobRequest__Output, _quotient_v1_CommitJobResponse__Output>
  ReleaseJob: MethodDefinition<_quotient_v1_ReleaseJobRequest, _quotient_v1_ReleaseJobResponse, _quotient_v1_ReleaseJobRequest__Output, _quotient_v1_ReleaseJobResponse__Output>
  StreamJobEvents: MethodDefinition<_quotient_v1_JobEvent, _quotient_v1_JobEventResult, _quotient_v1_JobEvent__Output, _quotient_v1_JobEventResult__Output>
  SubmitJobEvents: MethodDefinition<_quotient_v1_JobEventBatch, _quotient_v1_JobEventResults, _quotient_v1_JobEventBatch__Output, _quotient_v1_JobEventResults__Output>
}
