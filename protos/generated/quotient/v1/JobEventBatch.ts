// Original file: protos/quotient/v1/printing.proto

import type { JobEvent as _quotient_v1_JobEvent, JobEvent__Output as _quotient_v1_JobEvent__Output } from '../../quotient/v1/JobEvent';

export interface JobEventBatch {
  /**
   * At most 5,000 events per batch.
   */
  'events'?: (_quotient_v1_JobEvent)[];
}

export interface JobEventBatch__Output {
  /**
   * At most 5,000 events per batch.
   */
  'events': (_quotient_v1_JobEvent__Output)[];
}
