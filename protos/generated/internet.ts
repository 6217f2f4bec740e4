import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { InternetClient as _quotient_v1_InternetClient, InternetDefinition as _quotient_v1_InternetDefinition } from './quotient/v1/Internet';
import type { UsageLine as _quotient_v1_UsageLine, UsageLine__Output as _quotient_v1_UsageLine__Output } from './quotient/v1/UsageLine';
import type { UsageReport as _quotient_v1_UsageReport, UsageReport__Output as _quotient_v1_UsageReport__Output } from './quotient/v1/UsageReport';
import type { UsageReportResult as _quotient_v1_UsageReportResult, UsageReportResult__Output as _quotient_v1_UsageReportResult__Output } from './quotient/v1/UsageReportResult';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  quotient: {
    v1: {
      Internet: SubtypeConstructor<typeof grpc.Client, _quotient_v1_InternetClient> & { service: _quotient_v1_InternetDefinition }
      UsageLine: MessageTypeDefinition<_quotient_v1_UsageLine, _quotient_v1_UsageLine__Output>
      UsageReport: MessageTypeDefinition<_quotient_v1_UsageReport, _quotient_v1_UsageReport__Output>
      UsageReportResult: MessageTypeDefinition<_quotient_v1_UsageReportResult, _quotient_v1_UsageReportResult__Output>
    }
  }
}

