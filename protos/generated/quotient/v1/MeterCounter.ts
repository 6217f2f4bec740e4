// Original file: protos/quotient/v1/meters.proto

import type { Long } from '@grpc/proto-loader';

export interface MeterCounter {
  /**
   * "life", "colour", "mono", ...
   */
  'name'?: (string);
  'value'?: (number | string | Long);
  /**
   * prtMarkerCounterUnit: "impressions", "sheets", ...
   */
  'unit'?: (string);
}

export interface MeterCounter__Output {
  /**
   * "life", "colour", "mono", ...
   */
  'name': (string);
  'value': (number);
  /**
   * prtMarkerCounterUnit: "impressions", "sheets", ...
   */
  'unit': (string);
}
