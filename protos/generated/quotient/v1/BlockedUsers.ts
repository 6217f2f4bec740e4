// Original file: protos/quotient/v1/cluster.proto

import type { BlockChange as _quotient_v1_BlockChange, BlockChange__Output as _quotient_v1_BlockChange__Output } from '../../quotient/v1/BlockChange';

export interface BlockedUsers {
  'users'?: (_quotient_v1_BlockChange)[];
}

export interface BlockedUsers__Output {
  'users': (_quotient_v1_BlockChange__Output)[];
}
