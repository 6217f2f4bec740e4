// Original file: protos/quotient/v1/printing.proto

import type { Decision as _quotient_v1_Decision, Decision__Output as _quotient_v1_Decision__Output } from '../../quotient/v1/Decision';
import type { Long } from '@grpc/proto-loader';

export interface AuthorizeJobResponse {
  /**
   * The attempt this answer is about: the request's job_id for the first attempt,
   * "<job_id>#<n>" for the n-th. Commit and release it under this id.
   */
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
  /**
   * The attempt this answer is about: the request's job_id for the first attempt,
   * "<job_id>#<n>" for the n-th. Commit and release it under this id.
   */
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
