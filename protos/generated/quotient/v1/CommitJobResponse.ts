// Original file: protos/quotient/v1/printing.proto

import type { Long } from '@grpc/proto-loader';

export interface CommitJobResponse {
  'jobId'?: (string);
  /**
   * What was charged, in minor units.
   */
  'cost'?: (number | string | Long);
}

export interface CommitJobResponse__Output {
  'jobId': (string);
  /**
   * What was charged, in minor units.
   */
  'cost': (number);
}
