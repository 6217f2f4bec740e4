// Original file: protos/quotient/v1/meters.proto


export interface MeterReadResult {
  'accepted'?: (number);
}

export interface MeterReadResult__Output {
  'accepted': (number);
}
