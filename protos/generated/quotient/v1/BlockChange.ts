// Original file: protos/quotient/v1/cluster.proto


export interface BlockChange {
  'username'?: (string);
  'blocked'?: (boolean);
  /**
   * Shown to the user (Squid's 403 page, the job's state message), e.g. "no credit left".
   */
  'reason'?: (string);
}

export interface BlockChange__Output {
  'username': (string);
  'blocked': (boolean);
  /**
   * Shown to the user (Squid's 403 page, the job's state message), e.g. "no credit left".
   */
  'reason': (string);
}
