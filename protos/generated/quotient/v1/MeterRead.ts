// Original file: protos/quotient/v1/meters.proto

import type { MeterCounter as _quotient_v1_MeterCounter, MeterCounter__Output as _quotient_v1_MeterCounter__Output } from '../../quotient/v1/MeterCounter';
import type { Supply as _quotient_v1_Supply, Supply__Output as _quotient_v1_Supply__Output } from '../../quotient/v1/Supply';
import type { Long } from '@grpc/proto-loader';

export interface MeterRead {
  /**
   * Unique per read, chosen by the secondary. 1..191 characters.
   */
  'readId'?: (string);
  /**
   * The device's IP address or host name.
   */
  'address'?: (string);
  /**
   * When it was read, epoch milliseconds.
   */
  'readAtMs'?: (number | string | Long);
  'sysDescr'?: (string);
  'sysName'?: (string);
  'sysLocation'?: (string);
  'sysContact'?: (string);
  'model'?: (string);
  'serialNumber'?: (string);
  /**
   * Page counters: the Printer-MIB life count and any colour/mono counters.
   */
  'counters'?: (_quotient_v1_MeterCounter)[];
  'supplies'?: (_quotient_v1_Supply)[];
  /**
   * hrPrinterDetectedErrorState bits as names: "low_toner", "jammed", "service_requested", ...
   */
  'errorStates'?: (string)[];
  /**
   * hrDeviceStatus: "running", "warning", "testing", "down", "unknown".
   */
  'status'?: (string);
  /**
   * True when the device did not answer (an offline read).
   */
  'offline'?: (boolean);
}

export interface MeterRead__Output {
  /**
   * Unique per read, chosen by the secondary. 1..191 characters.
   */
  'readId': (string);
  /**
   * The device's IP address or host name.
   */
  'address': (string);
  /**
   * When it was read, epoch milliseconds.
   */
  'readAtMs': (number);
  'sysDescr': (string);
  'sysName': (string);
  'sysLocation': (string);
  'sysContact': (string);
  'model': (string);
  'serialNumber': (string);
  /**
   * Page counters: the Printer-MIB life count and any colour/mono counters.
   */
  'counters': (_quotient_v1_MeterCounter__Output)[];
  'supplies': (_quotient_v1_Supply__Output)[];
  /**
   * hrPrinterDetectedErrorState bits as names: "low_toner", "jammed", "service_requested", ...
   */
  'errorStates': (string)[];
  /**
   * hrDeviceStatus: "running", "warning", "testing", "down", "unknown".
   */
  'status': (string);
  /**
   * True when the device did not answer (an offline read).
   */
  'offline': (boolean);
}
