// Original file: protos/quotient/v1/printing.proto


export interface ReleaseJobResponse {
  'jobId'?: (string);
}

export interface ReleaseJobResponse__Output {
  'jobId': (string);
}
