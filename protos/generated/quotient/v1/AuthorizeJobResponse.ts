// Original file: protos/quotient/v1/printing.proto

import type { Decision as _quotient_v1_Decision, Decision__Output as _quotient_v1_Decision__Output } from '../../quotient/v1/Decision';
import type { Long } from '@grpc/proto-loader';

export interface AuthorizeJobResponse {
  'jobId'?: (string);
  'decision'?: (_quotient_v1_Decision);
  /**
   * Why a job was denied, in words for the user; empty when allowed.
   */
  'reason'?: (string);
  /**
   * The price reserved (allowed) or that was needed (denied), in minor units.
   */
  'cost'?: (number | string | Long);
  /**
   * Whether the printer charges at all (false: a passthrough printer only records).
   */
  'charged'?: (boolean);
}

export interface AuthorizeJobResponse__Output {
  'jobId': (string);
  'decision': (_quotient_v1_Decision__Output);
  /**
   * Why a job was denied, in words for the user; empty when allowed.
   */
  'reason': (string);
  /**
   * The price reserved (allowed) or that was needed (denied), in minor units.
   */
  'cost': (number);
  /**
   * Whether the printer charges at all (false: a passthrough printer only records).
   */
  'charged': (boolean);
}
