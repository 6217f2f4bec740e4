// Original file: protos/quotient/v1/printing.proto


export interface EventError {
  /**
   * A gRPC status code number (3 INVALID_ARGUMENT, 5 NOT_FOUND, 9 FAILED_PRECONDITION, ...).
   */
  'code'?: (number);
  /**
   * Quotient's machine code, e.g. "VALIDATION", "INVALID_STATE".
   */
  'quotientCode'?: (string);
  'message'?: (string);
}

export interface EventError__Output {
  /**
   * A gRPC status code number (3 INVALID_ARGUMENT, 5 NOT_FOUND, 9 FAILED_PRECONDITION, ...).
   */
  'code': (number);
  /**
   * Quotient's machine code, e.g. "VALIDATION", "INVALID_STATE".
   */
  'quotientCode': (string);
  'message': (string);
}
