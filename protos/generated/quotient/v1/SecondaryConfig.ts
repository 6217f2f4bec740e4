// Original file: protos/quotient/v1/cluster.proto

import type { PrinterConfig as _quotient_v1_PrinterConfig, PrinterConfig__Output as _quotient_v1_PrinterConfig__Output } from '../../quotient/v1/PrinterConfig';

export interface SecondaryConfig {
  /**
   * Per print queue settings decided on the primary.
   */
  'printers'?: (_quotient_v1_PrinterConfig)[];
  /**
   * Seconds between internet usage reports (proxy role); 1..3600.
   */
  'usageReportIntervalSeconds'?: (number);
}

export interface SecondaryConfig__Output {
  /**
   * Per print queue settings decided on the primary.
   */
  'printers': (_quotient_v1_PrinterConfig__Output)[];
  /**
   * Seconds between internet usage reports (proxy role); 1..3600.
   */
  'usageReportIntervalSeconds': (number);
}
