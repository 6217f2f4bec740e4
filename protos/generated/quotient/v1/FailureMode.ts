// Original file: protos/quotient/v1/cluster.proto

export const FailureMode = {
  FAILURE_MODE_UNSPECIFIED: 'FAILURE_MODE_UNSPECIFIED',
  /**
   * Print now, charge when the primary is back (the default).
   */
  FAILURE_MODE_CHARGE_LATER: 'FAILURE_MODE_CHARGE_LATER',
  /**
   * Hold the job: CUPS retries it later.
   */
  FAILURE_MODE_HOLD: 'FAILURE_MODE_HOLD',
  /**
   * Refuse to print.
   */
  FAILURE_MODE_DENY: 'FAILURE_MODE_DENY',
  /**
   * Print and never charge.
   */
  FAILURE_MODE_FREE: 'FAILURE_MODE_FREE',
} as const;

export type FailureMode =
  | 'FAILURE_MODE_UNSPECIFIED'
  | 0
  /**
   * Print now, charge when the primary is back (the default).
   */
  | 'FAILURE_MODE_CHARGE_LATER'
  | 1
  /**
   * Hold the job: CUPS retries it later.
   */
  | 'FAILURE_MODE_HOLD'
  | 2
  /**
   * Refuse to print.
   */
  | 'FAILURE_MODE_DENY'
  | 3
  /**
   * Print and never charge.
   */
  | 'FAILURE_MODE_FREE'
  | 4

export type FailureMode__Output = typeof FailureMode[keyof typeof FailureMode]
