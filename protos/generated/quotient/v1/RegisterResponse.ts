// Original file: protos/quotient/v1/cluster.proto

import type { SecondaryConfig as _quotient_v1_SecondaryConfig, SecondaryConfig__Output as _quotient_v1_SecondaryConfig__Output } from '../../quotient/v1/SecondaryConfig';
import type { Long } from '@grpc/proto-loader';

export interface RegisterResponse {
  /**
   * The primary's clock, epoch milliseconds, so a secondary can notice skew.
   */
  'serverTimeMs'?: (number | string | Long);
  /**
   * The configuration this secondary must apply now.
   */
  'config'?: (_quotient_v1_SecondaryConfig | null);
}

export interface RegisterResponse__Output {
  /**
   * The primary's clock, epoch milliseconds, so a secondary can notice skew.
   */
  'serverTimeMs': (number);
  /**
   * The configuration this secondary must apply now.
   */
  'config': (_quotient_v1_SecondaryConfig__Output | null);
}
