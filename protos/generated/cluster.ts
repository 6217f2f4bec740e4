import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { BlockChange as _quotient_v1_BlockChange, BlockChange__Output as _quotient_v1_BlockChange__Output } from './quotient/v1/BlockChange';
import type { BlockedUsers as _quotient_v1_BlockedUsers, BlockedUsers__Output as _quotient_v1_BlockedUsers__Output } from './quotient/v1/BlockedUsers';
import type { ClusterClient as _quotient_v1_ClusterClient, ClusterDefinition as _quotient_v1_ClusterDefinition } from './quotient/v1/Cluster';
import type { ControlEvent as _quotient_v1_ControlEvent, ControlEvent__Output as _quotient_v1_ControlEvent__Output } from './quotient/v1/ControlEvent';
import type { HeartbeatRequest as _quotient_v1_HeartbeatRequest, HeartbeatRequest__Output as _quotient_v1_HeartbeatRequest__Output } from './quotient/v1/HeartbeatRequest';
import type { HeartbeatResponse as _quotient_v1_HeartbeatResponse, HeartbeatResponse__Output as _quotient_v1_HeartbeatResponse__Output } from './quotient/v1/HeartbeatResponse';
import type { PrinterConfig as _quotient_v1_PrinterConfig, PrinterConfig__Output as _quotient_v1_PrinterConfig__Output } from './quotient/v1/PrinterConfig';
import type { PrinterInfo as _quotient_v1_PrinterInfo, PrinterInfo__Output as _quotient_v1_PrinterInfo__Output } from './quotient/v1/PrinterInfo';
import type { RegisterRequest as _quotient_v1_RegisterRequest, RegisterRequest__Output as _quotient_v1_RegisterRequest__Output } from './quotient/v1/RegisterRequest';
import type { RegisterResponse as _quotient_v1_RegisterResponse, RegisterResponse__Output as _quotient_v1_RegisterResponse__Output } from './quotient/v1/RegisterResponse';
import type { SecondaryConfig as _quotient_v1_SecondaryConfig, SecondaryConfig__Output as _quotient_v1_SecondaryConfig__Output } from './quotient/v1/SecondaryConfig';
import type { WatchRequest as _quotient_v1_WatchRequest, WatchRequest__Output as _quotient_v1_WatchRequest__Output } from './quotient/v1/WatchRequest';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  quotient: {
    v1: {
      BlockChange: MessageTypeDefinition<_quotient_v1_BlockChange, _quotient_v1_BlockChange__Output>
      BlockedUsers: MessageTypeDefinition<_quotient_v1_BlockedUsers, _quotient_v1_BlockedUsers__Output>
      Cluster: SubtypeConstructor<typeof grpc.Client, _quotient_v1_ClusterClient> & { service: _quotient_v1_ClusterDefinition }
      ControlEvent: MessageTypeDefinition<_quotient_v1_ControlEvent, _quotient_v1_ControlEvent__Output>
      FailureMode: EnumTypeDefinition
      HeartbeatRequest: MessageTypeDefinition<_quotient_v1_HeartbeatRequest, _quotient_v1_HeartbeatRequest__Output>
      HeartbeatResponse: MessageTypeDefinition<_quotient_v1_HeartbeatResponse, _quotient_v1_HeartbeatResponse__Output>
      PrinterConfig: MessageTypeDefinition<_quotient_v1_PrinterConfig, _quotient_v1_PrinterConfig__Output>
      PrinterInfo: MessageTypeDefinition<_quotient_v1_PrinterInfo, _quotient_v1_PrinterInfo__Output>
      RegisterRequest: MessageTypeDefinition<_quotient_v1_RegisterRequest, _quotient_v1_RegisterRequest__Output>
      RegisterResponse: MessageTypeDefinition<_quotient_v1_RegisterResponse, _quotient_v1_RegisterResponse__Output>
      Role: EnumTypeDefinition
      SecondaryConfig: MessageTypeDefinition<_quotient_v1_SecondaryConfig, _quotient_v1_SecondaryConfig__Output>
      UnknownPageCount: EnumTypeDefinition
      WatchRequest: MessageTypeDefinition<_quotient_v1_WatchRequest, _quotient_v1_WatchRequest__Output>
    }
  }
}

