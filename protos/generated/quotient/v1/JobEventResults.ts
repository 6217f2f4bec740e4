// Original file: protos/quotient/v1/printing.proto

import type { JobEventResult as _quotient_v1_JobEventResult, JobEventResult__Output as _quotient_v1_JobEventResult__Output } from '../../quotient/v1/JobEventResult';

export interface JobEventResults {
  'results'?: (_quotient_v1_JobEventResult)[];
}

export interface JobEventResults__Output {
  'results': (_quotient_v1_JobEventResult__Output)[];
}
