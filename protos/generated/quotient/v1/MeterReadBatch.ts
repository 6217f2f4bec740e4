// Original file: protos/quotient/v1/meters.proto

import type { MeterRead as _quotient_v1_MeterRead, MeterRead__Output as _quotient_v1_MeterRead__Output } from '../../quotient/v1/MeterRead';

export interface MeterReadBatch {
  /**
   * At most 1,000 reads per call.
   */
  'reads'?: (_quotient_v1_MeterRead)[];
}

export interface MeterReadBatch__Output {
  /**
   * At most 1,000 reads per call.
   */
  'reads': (_quotient_v1_MeterRead__Output)[];
}
