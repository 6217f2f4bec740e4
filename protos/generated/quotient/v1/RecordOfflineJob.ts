// Original file: protos/quotient/v1/printing.proto

import type { PrintJob as _quotient_v1_PrintJob, PrintJob__Output as _quotient_v1_PrintJob__Output } from '../../quotient/v1/PrintJob';

/**
 * A job that printed while the primary was unreachable: charged (or recorded free) now,
 * never refused, since the pages are printed.
 */
export interface RecordOfflineJob {
  'job'?: (_quotient_v1_PrintJob | null);
  /**
   * Pages the backend reported, all copies together; absent: as analysed. 0..1,000,000.
   */
  'printedPages'?: (number);
  /**
   * True when the printer's failure mode was "free": record the job without charging.
   */
  'free'?: (boolean);
  '_printedPages'?: "printedPages";
}

/**
 * A job that printed while the primary was unreachable: charged (or recorded free) now,
 * never refused, since the pages are printed.
 */
export interface RecordOfflineJob__Output {
  'job': (_quotient_v1_PrintJob__Output | null);
  /**
   * Pages the backend reported, all copies together; absent: as analysed. 0..1,000,000.
   */
  'printedPages'?: (number);
  /**
   * True when the printer's failure mode was "free": record the job without charging.
   */
  'free': (boolean);
  '_printedPages'?: "printedPages";
}
