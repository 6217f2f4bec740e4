// Original file: protos/quotient/v1/cluster.proto

import type { Long } from '@grpc/proto-loader';

export interface HeartbeatRequest {
  /**
   * Events waiting in the secondary's outbox.
   */
  'outboxDepth'?: (number);
  /**
   * Enqueue time (epoch ms) of the oldest waiting event; 0 when the outbox is empty.
   */
  'oldestPendingMs'?: (number | string | Long);
}

export interface HeartbeatRequest__Output {
  /**
   * Events waiting in the secondary's outbox.
   */
  'outboxDepth': (number);
  /**
   * Enqueue time (epoch ms) of the oldest waiting event; 0 when the outbox is empty.
   */
  'oldestPendingMs': (number);
}
