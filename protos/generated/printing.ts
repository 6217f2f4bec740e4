import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AuthorizeJobRequest as _quotient_v1_AuthorizeJobRequest, AuthorizeJobRequest__Output as _quotient_v1_AuthorizeJobRequest__Output } from './quotient/v1/AuthorizeJobRequest';
import type { AuthorizeJobResponse as _quotient_v1_AuthorizeJobResponse, AuthorizeJobResponse__Output as _quotient_v1_AuthorizeJobResponse__Output } from './quotient/v1/AuthorizeJobResponse';
import type { CommitJobRequest as _quotient_v1_CommitJobRequest, CommitJobRequest__Output as _quotient_v1_CommitJobRequest__Output } from './quotient/v1/CommitJobRequest';
import type { CommitJobResponse as _quotient_v1_CommitJobResponse, CommitJobResponse__Output as _quotient_v1_CommitJobResponse__Output } from './quotient/v1/CommitJobResponse';
import type { EventError as _quotient_v1_EventError, EventError__Output as _quotient_v1_EventError__Output } from './quotient/v1/EventError';
import type { JobEvent as _quotient_v1_JobEvent, JobEvent__Output as _quotient_v1_JobEvent__Output } from './quotient/v1/JobEvent';
import type { JobEventBatch as _quotient_v1_JobEventBatch, JobEventBatch__Output as _quotient_v1_JobEventBatch__Output } from './quotient/v1/JobEventBatch';
import type { JobEventResult as _quotient_v1_JobEventResult, JobEventResult__Output as _quotient_v1_JobEventResult__Output } from './quotient/v1/JobEventResult';
import type { JobEventResults as _quotient_v1_JobEventResults, JobEventResults__Output as _quotient_v1_JobEventResults__Output } from './quotient/v1/JobEventResults';
import type { PrintJob as _quotient_v1_PrintJob, PrintJob__Output as _quotient_v1_PrintJob__Output } from './quotient/v1/PrintJob';
import type { PrintingClient as _quotient_v1_PrintingClient, PrintingDefinition as _quotient_v1_PrintingDefinition } from './quotient/v1/Printing';
import type { RecordOfflineJob as _quotient_v1_RecordOfflineJob, RecordOfflineJob__Output as _quotient_v1_RecordOfflineJob__Output } from './quotient/v1/RecordOfflineJob';
import type { ReleaseJobRequest as _quotient_v1_ReleaseJobRequest, ReleaseJobRequest__Output as _quotient_v1_ReleaseJobRequest__Output } from './quotient/v1/ReleaseJobRequest';
import type { ReleaseJobResponse as _quotient_v1_ReleaseJobResponse, ReleaseJobResponse__Output as _quotient_v1_ReleaseJobResponse__Output } from './quotient/v1/ReleaseJobResponse';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  quotient: {
    v1: {
      AuthorizeJobRequest: MessageTypeDefinition<_quotient_v1_AuthorizeJobRequest, _quotient_v1_AuthorizeJobRequest__Output>
      AuthorizeJobResponse: MessageTypeDefinition<_quotient_v1_AuthorizeJobResponse, _quotient_v1_AuthorizeJobResponse__Output>
      CommitJobRequest: MessageTypeDefinition<_quotient_v1_CommitJobRequest, _quotient_v1_CommitJobRequest__Output>
      CommitJobResponse: MessageTypeDefinition<_quotient_v1_CommitJobResponse, _quotient_v1_CommitJobResponse__Output>
      Decision: EnumTypeDefinition
      EventError: MessageTypeDefinition<_quotient_v1_EventError, _quotient_v1_EventError__Output>
      JobEvent: MessageTypeDefinition<_quotient_v1_JobEvent, _quotient_v1_JobEvent__Output>
      JobEventBatch: MessageTypeDefinition<_quotient_v1_JobEventBatch, _quotient_v1_JobEventBatch__Output>
      JobEventResult: MessageTypeDefinition<_quotient_v1_JobEventResult, _quotient_v1_JobEventResult__Output>
      JobEventResults: MessageTypeDefinition<_quotient_v1_JobEventResults, _quotient_v1_JobEventResults__Output>
      PrintJob: MessageTypeDefinition<_quotient_v1_PrintJob, _quotient_v1_PrintJob__Output>
      Printing: SubtypeConstructor<typeof grpc.Client, _quotient_v1_PrintingClient> & { service: _quotient_v1_PrintingDefinition }
      RecordOfflineJob: MessageTypeDefinition<_quotient_v1_RecordOfflineJob, _quotient_v1_RecordOfflineJob__Output>
      ReleaseJobRequest: MessageTypeDefinition<_quotient_v1_ReleaseJobRequest, _quotient_v1_ReleaseJobRequest__Output>
      ReleaseJobResponse: MessageTypeDefinition<_quotient_v1_ReleaseJobResponse, _quotient_v1_ReleaseJobResponse__Output>
    }
  }
}

