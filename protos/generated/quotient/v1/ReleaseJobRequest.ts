// Original file: protos/quotient/v1/printing.proto


/**
 * Releasing a job the primary never saw succeeds and changes nothing.
 */
export interface ReleaseJobRequest {
  /**
   * The attempt, as AuthorizeJobResponse.job_id named it.
   */
  'jobId'?: (string);
  /**
   * Why it did not print (backend failed, cancelled), for the job log.
   */
  'reason'?: (string);
}

/**
 * Releasing a job the primary never saw succeeds and changes nothing.
 */
export interface ReleaseJobRequest__Output {
  /**
   * The attempt, as AuthorizeJobResponse.job_id named it.
   */
  'jobId': (string);
  /**
   * Why it did not print (backend failed, cancelled), for the job log.
   */
  'reason': (string);
}
