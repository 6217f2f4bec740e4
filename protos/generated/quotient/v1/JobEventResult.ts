// Original file: protos/quotient/v1/printing.proto

import type { AuthorizeJobResponse as _quotient_v1_AuthorizeJobResponse, AuthorizeJobResponse__Output as _quotient_v1_AuthorizeJobResponse__Output } from '../../quotient/v1/AuthorizeJobResponse';
import type { CommitJobResponse as _quotient_v1_CommitJobResponse, CommitJobResponse__Output as _quotient_v1_CommitJobResponse__Output } from '../../quotient/v1/CommitJobResponse';
import type { ReleaseJobResponse as _quotient_v1_ReleaseJobResponse, ReleaseJobResponse__Output as _quotient_v1_ReleaseJobResponse__Output } from '../../quotient/v1/ReleaseJobResponse';
import type { EventError as _quotient_v1_EventError, EventError__Output as _quotient_v1_EventError__Output } from '../../quotient/v1/EventError';

/**
 * The answer to one event: its result, or an error that concerns that event alone (a bad
 * field, an unknown job); a failure of the whole batch is the call's status instead.
 */
export interface JobEventResult {
  'jobId'?: (string);
  'authorized'?: (_quotient_v1_AuthorizeJobResponse | null);
  'committed'?: (_quotient_v1_CommitJobResponse | null);
  'released'?: (_quotient_v1_ReleaseJobResponse | null);
  'recorded'?: (_quotient_v1_CommitJobResponse | null);
  'error'?: (_quotient_v1_EventError | null);
  'result'?: "authorized"|"committed"|"released"|"recorded"|"error";
}

/**
 * The answer to one event: its result, or an error that concerns that event alone (a bad
 * field, an unknown job); a failure of the whole batch is the call's status instead.
 */
export interface JobEventResult__Output {
  'jobId': (string);
  'authorized'?: (_quotient_v1_AuthorizeJobResponse__Output | null);
  'committed'?: (_quotient_v1_CommitJobResponse__Output | null);
  'released'?: (_quotient_v1_ReleaseJobResponse__Output | null);
  'recorded'?: (_quotient_v1_CommitJobResponse__Output | null);
  'error'?: (_quotient_v1_EventError__Output | null);
  'result'?: "authorized"|"committed"|"released"|"recorded"|"error";
}
