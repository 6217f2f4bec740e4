// Original file: protos/quotient/v1/printing.proto

import type { PrintJob as _quotient_v1_PrintJob, PrintJob__Output as _quotient_v1_PrintJob__Output } from '../../quotient/v1/PrintJob';

export interface AuthorizeJobRequest {
  'job'?: (_quotient_v1_PrintJob | null);
}

export interface AuthorizeJobRequest__Output {
  'job': (_quotient_v1_PrintJob__Output | null);
}
