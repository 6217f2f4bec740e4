// Original file: protos/quotient/v1/cluster.proto

import type { FailureMode as _quotient_v1_FailureMode, FailureMode__Output as _quotient_v1_FailureMode__Output } from '../../quotient/v1/FailureMode';

export interface PrinterConfig {
  'queue'?: (string);
  'enabled'?: (boolean);
  /**
   * What the secondary does with this queue's jobs while the primary is unreachable.
   */
  'failureMode'?: (_quotient_v1_FailureMode);
}

export interface PrinterConfig__Output {
  'queue': (string);
  'enabled': (boolean);
  /**
   * What the secondary does with this queue's jobs while the primary is unreachable.
   */
  'failureMode': (_quotient_v1_FailureMode__Output);
}
