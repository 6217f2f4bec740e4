// Original file: protos/quotient/v1/internet.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { UsageReport as _quotient_v1_UsageReport, UsageReport__Output as _quotient_v1_UsageReport__Output } from '../../quotient/v1/UsageReport';
import type { UsageReportResult as _quotient_v1_UsageReportResult, UsageReportResult__Output as _quotient_v1_UsageReportResult__Output } from '../../quotient/v1/UsageReportResult';

export interface InternetClient extends grpc.Client {
  /**
   * Idempotent on report_id: a repeated report changes nothing and gets the first answer.
   */
  ReportUsage(argument: _quotient_v1_UsageReport, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quotient_v1_UsageReportResult__Output>): grpc.ClientUnaryCall;
  ReportUsage(argument: _quotient_v1_UsageReport, metadata: grpc.Metadata, callback: grpc.requestCallback<_quotient_v1_UsageReportResult__Output>): grpc.ClientUnaryCall;
  ReportUsage(argument: _quotient_v1_UsageReport, options: grpc.CallOptions, callback: grpc.requestCallback<_quotient_v1_UsageReportResult__Output>): grpc.ClientUnaryCall;
  ReportUsage(argument: _quotient_v1_UsageReport, callback: grpc.requestCallback<_quotient_v1_UsageReportResult__Output>): grpc.ClientUnaryCall;
  /**
   * Idempotent on report_id: a repeated report changes nothing and gets the first answer.
   */
  reportUsage(argument: _quotient_v1_UsageReport, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_quotient_v1_UsageReportResult__Output>): grpc.ClientUnaryCall;
  reportUsage(argument: _quotient_v1_UsageReport, metadata: grpc.Metadata, callback: grpc.requestCallback<_quotient_v1_UsageReportResult__Output>): grpc.ClientUnaryCall;
  reportUsage(argument: _quotient_v1_UsageReport, options: grpc.CallOptions, callback: grpc.requestCallback<_quotient_v1_UsageReportResult__Output>): grpc.ClientUnaryCall;
  reportUsage(argument: _quotient_v1_UsageReport, callback: grpc.requestCallback<_quotient_v1_UsageReportResult__Output>): grpc.ClientUnaryCall;
  
}

export interface InternetHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Idempotent on report_id: a repeated report changes nothing and gets the first answer.
   */
  ReportUsage: grpc.handleUnaryCall<_quotient_v1_UsageReport__Output, _quotient_v1_UsageReportResult>;
  
}

export interface InternetDefinition extends grpc.ServiceDefinition {
  ReportUsage: MethodDefinition<_quotient_v1_UsageReport, _quotient_v1_UsageReportResult, _quotient_v1_UsageReport__Output, _quotient_v1_UsageReportResult__Output>
}
