// Original file: protos/quotient/v1/cluster.proto

export const Role = {
  ROLE_UNSPECIFIED: 'ROLE_UNSPECIFIED',
  /**
   * A print server: a CUPS backend wrapper asks this secondary for decisions.
   */
  ROLE_PRINT: 'ROLE_PRINT',
  /**
   * A proxy server: Squid's log is analysed here and its ACL helper asks for decisions.
   */
  ROLE_PROXY: 'ROLE_PROXY',
} as const;

export type Role =
  | 'ROLE_UNSPECIFIED'
  | 0
  /**
   * A print server: a CUPS backend wrapper asks this secondary for decisions.
   */
  | 'ROLE_PRINT'
  | 1
  /**
   * A proxy server: Squid's log is analysed here and its ACL helper asks for decisions.
   */
  | 'ROLE_PROXY'
  | 2

export type Role__Output = typeof Role[keyof typeof Role]
