// Original file: protos/quotient/v1/cluster.proto

import type { Role as _quotient_v1_Role, Role__Output as _quotient_v1_Role__Output } from '../../quotient/v1/Role';
import type { PrinterInfo as _quotient_v1_PrinterInfo, PrinterInfo__Output as _quotient_v1_PrinterInfo__Output } from '../../quotient/v1/PrinterInfo';

export interface RegisterRequest {
  /**
   * Unique name of the secondary within its primary, e.g. "print-1"; 1..128 characters.
   */
  'name'?: (string);
  'role'?: (_quotient_v1_Role);
  /**
   * Quotient version of the secondary, e.g. "0.1.0".
   */
  'version'?: (string);
  /**
   * Host name the secondary runs on, for the admin pages.
   */
  'host'?: (string);
  /**
   * Print queues this secondary serves (print role); each becomes a printer on the primary.
   */
  'printers'?: (_quotient_v1_PrinterInfo)[];
}

export interface RegisterRequest__Output {
  /**
   * Unique name of the secondary within its primary, e.g. "print-1"; 1..128 characters.
   */
  'name': (string);
  'role': (_quotient_v1_Role__Output);
  /**
   * Quotient version of the secondary, e.g. "0.1.0".
   */
  'version': (string);
  /**
   * Host name the secondary runs on, for the admin pages.
   */
  'host': (string);
  /**
   * Print queues this secondary serves (print role); each becomes a printer on the primary.
   */
  'printers': (_quotient_v1_PrinterInfo__Output)[];
}
