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
   * Why it did not print (backend failed, cancelled), for the job log; the first 512 characters
   * are kept (a longer reason is cut, never refused: a refused release would leave money held).
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
   * Why it did not print (backend failed, cancelled), for the job log; the first 512 characters
   * are kept (a longer reason is cut, never refused: a refused release would leave money held).
   */
  'reason': (string);
}
