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
  /**
   * Events the primary refused for good, kept in the secondary's dead-letter table.
   */
  'deadLetters'?: (number);
  /**
   * The newest of them, "<job id>: <reason>" (at most 512 characters); empty when none.
   */
  'lastDeadLetter'?: (string);
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
  /**
   * Events the primary refused for good, kept in the secondary's dead-letter table.
   */
  'deadLetters': (number);
  /**
   * The newest of them, "<job id>: <reason>" (at most 512 characters); empty when none.
   */
  'lastDeadLetter': (string);
}
