// Original file: protos/quotient/v1/cluster.proto

import type { BlockedUsers as _quotient_v1_BlockedUsers, BlockedUsers__Output as _quotient_v1_BlockedUsers__Output } from '../../quotient/v1/BlockedUsers';
import type { BlockChange as _quotient_v1_BlockChange, BlockChange__Output as _quotient_v1_BlockChange__Output } from '../../quotient/v1/BlockChange';
import type { SecondaryConfig as _quotient_v1_SecondaryConfig, SecondaryConfig__Output as _quotient_v1_SecondaryConfig__Output } from '../../quotient/v1/SecondaryConfig';
import type { Long } from '@grpc/proto-loader';

export interface ControlEvent {
  /**
   * Increases by one for every event on this stream (a gap means an event was missed:
   * the secondary should reconnect to get a fresh snapshot).
   */
  'sequence'?: (number | string | Long);
  /**
   * Sent first on every stream: the whole set of blocked users.
   */
  'blockedSnapshot'?: (_quotient_v1_BlockedUsers | null);
  /**
   * One user became blocked (ran out of credit) or unblocked (credit arrived).
   */
  'blockChange'?: (_quotient_v1_BlockChange | null);
  /**
   * The configuration changed (sent first too, right after the snapshot).
   */
  'config'?: (_quotient_v1_SecondaryConfig | null);
  'event'?: "blockedSnapshot"|"blockChange"|"config";
}

export interface ControlEvent__Output {
  /**
   * Increases by one for every event on this stream (a gap means an event was missed:
   * the secondary should reconnect to get a fresh snapshot).
   */
  'sequence': (number);
  /**
   * Sent first on every stream: the whole set of blocked users.
   */
  'blockedSnapshot'?: (_quotient_v1_BlockedUsers__Output | null);
  /**
   * One user became blocked (ran out of credit) or unblocked (credit arrived).
   */
  'blockChange'?: (_quotient_v1_BlockChange__Output | null);
  /**
   * The configuration changed (sent first too, right after the snapshot).
   */
  'config'?: (_quotient_v1_SecondaryConfig__Output | null);
  'event'?: "blockedSnapshot"|"blockChange"|"config";
}
