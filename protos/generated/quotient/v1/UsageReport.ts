// Original file: protos/quotient/v1/internet.proto

import type { UsageLine as _quotient_v1_UsageLine, UsageLine__Output as _quotient_v1_UsageLine__Output } from '../../quotient/v1/UsageLine';
import type { Long } from '@grpc/proto-loader';

export interface UsageReport {
  /**
   * Unique per report, chosen by the secondary (e.g. "<secondary>:<interval start>:<n>"); 1..191 chars.
   */
  'reportId'?: (string);
  /**
   * The interval the usage happened in, epoch milliseconds, start inclusive, end exclusive.
   */
  'intervalStartMs'?: (number | string | Long);
  'intervalEndMs'?: (number | string | Long);
  /**
   * At most 10,000 lines per report.
   */
  'lines'?: (_quotient_v1_UsageLine)[];
}

export interface UsageReport__Output {
  /**
   * Unique per report, chosen by the secondary (e.g. "<secondary>:<interval start>:<n>"); 1..191 chars.
   */
  'reportId': (string);
  /**
   * The interval the usage happened in, epoch milliseconds, start inclusive, end exclusive.
   */
  'intervalStartMs': (number);
  'intervalEndMs': (number);
  /**
   * At most 10,000 lines per report.
   */
  'lines': (_quotient_v1_UsageLine__Output)[];
}
