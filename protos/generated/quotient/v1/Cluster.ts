// Original file: protos/quotient/v1/cluster.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ControlEvent as _quotient_v1_ControlEvent, ControlEvent__Output as _quotient_v1_ControlEvent__Output } from '../../quotient/v1/ControlEvent';
import type { HeartbeatRequest as _quotient_v1_HeartbeatRequest, HeartbeatRequest__Output as _quotient_v1_HeartbeatRequest__Output } from '../../quotient/v1/HeartbeatRequest';
import type { HeartbeatResponse as _quotient_v1_HeartbeatResponse, HeartbeatResponse__Output as _quotient_v1_HeartbeatResponse__Output } from '../../quotient/v1/HeartbeatResponse';
import type { RegisterRequest as _quotient_v1_RegisterRequest, RegisterRequest__Output as _quotient_v1_RegisterRequest__Output } from '../../quotient/v1/RegisterRequest';
import type { RegisterResponse as _quotient_v1_RegisterResponse, RegisterResponse__Output as _quotient_v1_RegisterResponse__Output } from '../../quotient/v1/RegisterResponse';
import type { WatchRequest as _quotient_v1_WatchRequest, WatchRequest__Output as _quotient_v1_WatchRequest__Output } from '../../quotient/v1/WatchRequest';

export interface ClusterClient extends grpc.Client {
  /**
   * Tells the primary the secondary is alive and how far behind its outbox is.
   */
  Heartbeat(argument: _quotient_v1_HeartbeatRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quotient_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  Heartbeat(argument: _quotient_v1_HeartbeatRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quotient_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  Heartbeat(argument: _quotient_v1_HeartbeatRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quotient_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  Heartbeat(argument: _quotient_v1_HeartbeatRequest, callback: grpc.requestCallback<_quotient_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Tells the primary the secondary is alive and how far behind its outbox is.
   */
  heartbeat(argument: _quotient_v1_HeartbeatRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quotient_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  heartbeat(argument: _quotient_v1_HeartbeatRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quotient_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  heartbeat(argument: _quotient_v1_HeartbeatRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quotient_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  heartbeat(argument: _quotient_v1_HeartbeatRequest, callback: grpc.requestCallback<_quotient_v1_HeartbeatResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Announces a secondary (or refreshes it after a restart). Idempotent by name.
   */
  Register(argument: _quotient_v1_RegisterRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quotient_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  Register(argument: _quotient_v1_RegisterRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quotient_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  Register(argument: _quotient_v1_RegisterRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quotient_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  Register(argument: _quotient_v1_RegisterRequest, callback: grpc.requestCallback<_quotient_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Announces a secondary (or refreshes it after a restart). Idempotent by name.
   */
  register(argument: _quotient_v1_RegisterRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quotient_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  register(argument: _quotient_v1_RegisterRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_quotient_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  register(argument: _quotient_v1_RegisterRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_quotient_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  register(argument: _quotient_v1_RegisterRequest, callback: grpc.requestCallback<_quotient_v1_RegisterResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * A server stream that stays open: first a snapshot (all blocked users, the configuration),
   * then every change as it happens. A secondary reconnects with backoff when it ends.
   */
  Watch(argument: _quotient_v1_WatchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_quotient_v1_ControlEvent__Output>;
  Watch(argument: _quotient_v1_WatchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_quotient_v1_ControlEvent__Output>;
  /**
   * A server stream that stays open: first a snapshot (all blocked users, the configuration),
   * then every change as it happens. A secondary reconnects with backoff when it ends.
   */
  watch(argument: _quotient_v1_WatchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_quotient_v1_ControlEvent__Output>;
  watch(argument: _quotient_v1_WatchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_quotient_v1_ControlEvent__Output>;
  
}

export interface ClusterHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Tells the primary the secondary is alive and how far behind its outbox is.
   */
  Heartbeat: grpc.handleUnaryCall<_quotient_v1_HeartbeatRequest__Output, _quotient_v1_HeartbeatResponse>;
  
  /**
   * Announces a secondary (or refreshes it after a restart). Idempotent by name.
   */
  Register: grpc.handleUnaryCall<_quotient_v1_RegisterRequest__Output, _quotient_v1_RegisterResponse>;
  
  /**
   * A server stream that stays open: first a snapshot (all blocked users, the configuration),
   * then every change as it happens. A secondary reconnects with backoff when it ends.
   */
  Watch: grpc.handleServerStreamingCall<_quotient_v1_WatchRequest__Output, _quotient_v1_ControlEvent>;
  
}

export interface ClusterDefinition extends grpc.ServiceDefinition {
  Heartbeat: MethodDefinition<_quotient_v1_HeartbeatRequest, _quotient_v1_HeartbeatResponse, _quotient_v1_HeartbeatRequest__Output, _quotient_v1_HeartbeatResponse__Output>
  Register: MethodDefinition<_quotient_v1_RegisterRequest, _quotient_v1_RegisterResponse, _quotient_v1_RegisterRequest__Output, _quotient_v1_RegisterResponse__Output>
  Watch: MethodDefinition<_quotient_v1_WatchRequest, _quotient_v1_ControlEvent, _quotient_v1_WatchRequest__Output, _quotient_v1_ControlEvent__Output>
}
