// Original file: protos/quotient/v1/cluster.proto

import type { FailureMode as _quotient_v1_FailureMode, FailureMode__Output as _quotient_v1_FailureMode__Output } from '../../quotient/v1/FailureMode';
import type { UnknownPageCount as _quotient_v1_UnknownPageCount, UnknownPageCount__Output as _quotient_v1_UnknownPageCount__Output } from '../../quotient/v1/UnknownPageCount';

export interface PrinterConfig {
  'queue'?: (string);
  'enabled'?: (boolean);
  /**
   * What the secondary does with this queue's jobs while the primary is unreachable.
   */
  'failureMode'?: (_quotient_v1_FailureMode);
  /**
   * What the secondary does with a job whose pages cannot be counted (online and offline).
   */
  'unknownPageCount'?: (_quotient_v1_UnknownPageCount);
  /**
   * The pages such a job is charged under CHARGE_MAXIMUM: the printer's max-pages filter, all
   * copies included; 0 when the printer has none (the job is then held).
   */
  'unknownPageCountPages'?: (number);
}

export interface PrinterConfig__Output {
  'queue': (string);
  'enabled': (boolean);
  /**
   * What the secondary does with this queue's jobs while the primary is unreachable.
   */
  'failureMode': (_quotient_v1_FailureMode__Output);
  /**
   * What the secondary does with a job whose pages cannot be counted (online and offline).
   */
  'unknownPageCount': (_quotient_v1_UnknownPageCount__Output);
  /**
   * The pages such a job is charged under CHARGE_MAXIMUM: the printer's max-pages filter, all
   * copies included; 0 when the printer has none (the job is then held).
   */
  'unknownPageCountPages': (number);
}
