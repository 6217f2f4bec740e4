// Original file: protos/quotient/v1/meters.proto

import type { Long } from '@grpc/proto-loader';

export interface Supply {
  'description'?: (string);
  /**
   * prtMarkerSuppliesLevel; -1 other, -2 unknown, -3 "some remaining" are kept as they are.
   */
  'level'?: (number | string | Long);
  /**
   * prtMarkerSuppliesMaxCapacity; -1 / -2 as above.
   */
  'capacity'?: (number | string | Long);
  /**
   * 0..100 when level and capacity are both known; -1 otherwise.
   */
  'percent'?: (number);
  /**
   * prtMarkerSuppliesType: "toner", "wasteToner", "ink", ...
   */
  'type'?: (string);
}

export interface Supply__Output {
  'description': (string);
  /**
   * prtMarkerSuppliesLevel; -1 other, -2 unknown, -3 "some remaining" are kept as they are.
   */
  'level': (number);
  /**
   * prtMarkerSuppliesMaxCapacity; -1 / -2 as above.
   */
  'capacity': (number);
  /**
   * 0..100 when level and capacity are both known; -1 otherwise.
   */
  'percent': (number);
  /**
   * prtMarkerSuppliesType: "toner", "wasteToner", "ink", ...
   */
  'type': (string);
}
