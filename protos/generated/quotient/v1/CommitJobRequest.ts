// Original file: protos/quotient/v1/printing.proto


export interface CommitJobRequest {
  /**
   * The attempt, as AuthorizeJobResponse.job_id named it.
   */
  'jobId'?: (string);
  /**
   * Pages the real backend reports it printed, all copies together (its PAGE: lines); absent
   * when it reports none, and the job is charged as authorised. 0..1,000,000.
   */
  'printedPages'?: (number);
  '_printedPages'?: "printedPages";
}

export interface CommitJobRequest__Output {
  /**
   * The attempt, as AuthorizeJobResponse.job_id named it.
   */
  'jobId': (string);
  /**
   * Pages the real backend reports it printed, all copies together (its PAGE: lines); absent
   * when it reports none, and the job is charged as authorised. 0..1,000,000.
   */
  'printedPages'?: (number);
  '_printedPages'?: "printedPages";
}
