import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { MeterCounter as _quotient_v1_MeterCounter, MeterCounter__Output as _quotient_v1_MeterCounter__Output } from './quotient/v1/MeterCounter';
import type { MeterRead as _quotient_v1_MeterRead, MeterRead__Output as _quotient_v1_MeterRead__Output } from './quotient/v1/MeterRead';
import type { MeterReadBatch as _quotient_v1_MeterReadBatch, MeterReadBatch__Output as _quotient_v1_MeterReadBatch__Output } from './quotient/v1/MeterReadBatch';
import type { MeterReadResult as _quotient_v1_MeterReadResult, MeterReadResult__Output as _quotient_v1_MeterReadResult__Output } from './quotient/v1/MeterReadResult';
import type { MetersClient as _quotient_v1_MetersClient, MetersDefinition as _quotient_v1_MetersDefinition } from './quotient/v1/Meters';
import type { Supply as _quotient_v1_Supply, Supply__Output as _quotient_v1_Supply__Output } from './quotient/v1/Supply';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  quotient: {
    v1: {
      MeterCounter: MessageTypeDefinition<_quotient_v1_MeterCounter, _quotient_v1_MeterCounter__Output>
      MeterRead: MessageTypeDefinition<_quotient_v1_MeterRead, _quotient_v1_MeterRead__Output>
      MeterReadBatch: MessageTypeDefinition<_quotient_v1_MeterReadBatch, _quotient_v1_MeterReadBatch__Output>
      MeterReadResult: MessageTypeDefinition<_quotient_v1_MeterReadResult, _quotient_v1_MeterReadResult__Output>
      Meters: SubtypeConstructor<typeof grpc.Client, _quotient_v1_MetersClient> & { service: _quotient_v1_MetersDefinition }
      Supply: MessageTypeDefinition<_quotient_v1_Supply, _quotient_v1_Supply__Output>
    }
  }
}

