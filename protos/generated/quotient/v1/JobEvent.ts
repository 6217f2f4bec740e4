// Original file: protos/quotient/v1/printing.proto

import type { AuthorizeJobRequest as _quotient_v1_AuthorizeJobRequest, AuthorizeJobRequest__Output as _quotient_v1_AuthorizeJobRequest__Output } from '../../quotient/v1/AuthorizeJobRequest';
import type { CommitJobRequest as _quotient_v1_CommitJobRequest, CommitJobRequest__Output as _quotient_v1_CommitJobRequest__Output } from '../../quotient/v1/CommitJobRequest';
import type { ReleaseJobRequest as _quotient_v1_ReleaseJobRequest, ReleaseJobRequest__Output as _quotient_v1_ReleaseJobRequest__Output } from '../../quotient/v1/ReleaseJobRequest';
import type { RecordOfflineJob as _quotient_v1_RecordOfflineJob, RecordOfflineJob__Output as _quotient_v1_RecordOfflineJob__Output } from '../../quotient/v1/RecordOfflineJob';

export interface JobEvent {
  'authorize'?: (_quotient_v1_AuthorizeJobRequest | null);
  'commit'?: (_quotient_v1_CommitJobRequest | null);
  'release'?: (_quotient_v1_ReleaseJobRequest | null);
  'offline'?: (_quotient_v1_RecordOfflineJob | null);
  'event'?: "authorize"|"commit"|"release"|"offline";
}

export interface JobEvent__Output {
  'authorize'?: (_quotient_v1_AuthorizeJobRequest__Output | null);
  'commit'?: (_quotient_v1_CommitJobRequest__Output | null);
  'release'?: (_quotient_v1_ReleaseJobRequest__Output | null);
  'offline'?: (_quotient_v1_RecordOfflineJob__Output | null);
  'event'?: "authorize"|"commit"|"release"|"offline";
}
