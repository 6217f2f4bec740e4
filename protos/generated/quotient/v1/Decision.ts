// Original file: protos/quotient/v1/printing.proto

export const Decision = {
  DECISION_UNSPECIFIED: 'DECISION_UNSPECIFIED',
  /**
   * Print it; its cost is reserved.
   */
  DECISION_ALLOW: 'DECISION_ALLOW',
  /**
   * Do not print it; `reason` says why (shown to the user).
   */
  DECISION_DENY: 'DECISION_DENY',
} as const;

export type Decision =
  | 'DECISION_UNSPECIFIED'
  | 0
  /**
   * Print it; its cost is reserved.
   */
  | 'DECISION_ALLOW'
  | 1
  /**
   * Do not print it; `reason` says why (shown to the user).
   */
  | 'DECISION_DENY'
  | 2

export type Decision__Output = typeof Decision[keyof typeof Decision]
