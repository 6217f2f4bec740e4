// Original file: protos/quotient/v1/meters.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { MeterReadBatch as _quotient_v1_MeterReadBatch, MeterReadBatch__Output as _quotient_v1_MeterReadBatch__Output } from '../../quotient/v1/MeterReadBatch';
import type { MeterReadResult as _quotient_v1_MeterReadResult, MeterReadResult__Output as _quotient_v1_MeterReadResult__Output } from '../../quotient/v1/MeterReadResult';

export interface MetersClient extends grpc.Client {
  /**
   * Idempotent on each read's read_id.
   */
  ReportMeterReads(argument: _quotient_v1_MeterReadBatch, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quotient_v1_MeterReadResult__Output>): grpc.ClientUnaryCall;
  ReportMeterReads(argument: _quotient_v1_MeterReadBatch, metadata: grpc.Metadata, callback: grpc.requestCallback<_quotient_v1_MeterReadResult__Output>): grpc.ClientUnaryCall;
  ReportMeterReads(argument: _quotient_v1_MeterReadBatch, options: grpc.CallOptions, callback: grpc.requestCallback<_quotient_v1_MeterReadResult__Output>): grpc.ClientUnaryCall;
  ReportMeterReads(argument: _quotient_v1_MeterReadBatch, callback: grpc.requestCallback<_quotient_v1_MeterReadResult__Output>): grpc.ClientUnaryCall;
  /**
   * Idempotent on each read's read_id.
   */
  reportMeterReads(argument: _quotient_v1_MeterReadBatch, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quotient_v1_MeterReadResult__Output>): grpc.ClientUnaryCall;
  reportMeterReads(argument: _quotient_v1_MeterReadBatch, metadata: grpc.Metadata, callback: grpc.requestCallback<_quotient_v1_MeterReadResult__Output>): grpc.ClientUnaryCall;
  reportMeterReads(argument: _quotient_v1_MeterReadBatch, options: grpc.CallOptions, callback: grpc.requestCallback<_quotient_v1_MeterReadResult__Output>): grpc.ClientUnaryCall;
  reportMeterReads(argument: _quotient_v1_MeterReadBatch, callback: grpc.requestCallback<_quotient_v1_MeterReadResult__Output>): grpc.ClientUnaryCall;
  
}

export interface MetersHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Idempotent on each read's read_id.
   */
  ReportMeterReads: grpc.handleUnaryCall<_quotient_v1_MeterReadBatch__Output, _quotient_v1_MeterReadResult>;
  
}

export interface MetersDefinition extends grpc.ServiceDefinition {
  ReportMeterReads: MethodDefinition<_quotient_v1_MeterReadBatch, _quotient_v1_MeterReadResult, _quotient_v1_MeterReadBatch__Output, _quotient_v1_MeterReadResult__Output>
}
