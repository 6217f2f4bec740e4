// Original file: protos/quotient/v1/internet.proto

import type { Long } from '@grpc/proto-loader';

export interface UsageReportResult {
  'reportId'?: (string);
  /**
   * Total charged for the report, minor units.
   */
  'charged'?: (number | string | Long);
  /**
   * Users who ran out of credit with this report (the primary also pushes them on Watch).
   */
  'blockedUsers'?: (string)[];
}

export interface UsageReportResult__Output {
  'reportId': (string);
  /**
   * Total charged for the report, minor units.
   */
  'charged': (number);
  /**
   * Users who ran out of credit with this report (the primary also pushes them on Watch).
   */
  'blockedUsers': (string)[];
}
