// Original file: protos/quotient/v1/cluster.proto

import type { Long } from '@grpc/proto-loader';

export interface HeartbeatResponse {
  'serverTimeMs'?: (number | string | Long);
}

export interface HeartbeatResponse__Output {
  'serverTimeMs': (number);
}
