// Original file: protos/quotient/v1/printing.proto


export interface ReleaseJobRequest {
  'jobId'?: (string);
  /**
   * Why it did not print (backend failed, cancelled), for the job log.
   */
  'reason'?: (string);
}

export interface ReleaseJobRequest__Output {
  'jobId': (string);
  /**
   * Why it did not print (backend failed, cancelled), for the job log.
   */
  'reason': (string);
}
