/**
 * The one errors module: typed errors with a stable machine `code`, an HTTP status and a gRPC
 * status. Callers branch on `code`, never on message text; the HTTP error middleware, the gRPC
 * mapping and the CLI all translate from here, and anything that is not a QuotientError becomes
 * a generic internal error without leaking its message.
 */

/** gRPC status codes we answer with (values from grpc's status.proto; kept here so common/ needs no grpc import). */
export const GrpcStatus = {
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

export type ErrorCode =
  | 'VALIDATION'
  | 'BAD_REQUEST'
  | 'TOO_LARGE'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'INSUFFICIENT_FUNDS'
  | 'IDEMPOTENCY_CONFLICT'
  | 'INVALID_STATE'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'CONFIG'
  | 'DATABASE_UNAVAILABLE'
  | 'INTERNAL';

interface ErrorShape {
  httpStatus: number;
  grpcStatus: number;
}

const SHAPES: Record<ErrorCode, ErrorShape> = {
  VALIDATION: { httpStatus: 400, grpcStatus: GrpcStatus.INVALID_ARGUMENT },
  BAD_REQUEST: { httpStatus: 400, grpcStatus: GrpcStatus.INVALID_ARGUMENT },
  TOO_LARGE: { httpStatus: 413, grpcStatus: GrpcStatus.RESOURCE_EXHAUSTED },
  NOT_FOUND: { httpStatus: 404, grpcStatus: GrpcStatus.NOT_FOUND },
  ALREADY_EXISTS: { httpStatus: 409, grpcStatus: GrpcStatus.ALREADY_EXISTS },
  INSUFFICIENT_FUNDS: { httpStatus: 402, grpcStatus: GrpcStatus.FAILED_PRECONDITION },
  IDEMPOTENCY_CONFLICT: { httpStatus: 409, grpcStatus: GrpcStatus.ALREADY_EXISTS },
  INVALID_STATE: { httpStatus: 409, grpcStatus: GrpcStatus.FAILED_PRECONDITION },
  UNAUTHENTICATED: { httpStatus: 401, grpcStatus: GrpcStatus.UNAUTHENTICATED },
  FORBIDDEN: { httpStatus: 403, grpcStatus: GrpcStatus.PERMISSION_DENIED },
  CONFIG: { httpStatus: 500, grpcStatus: GrpcStatus.INTERNAL },
  DATABASE_UNAVAILABLE: { httpStatus: 503, grpcStatus: GrpcStatus.UNAVAILABLE },
  INTERNAL: { httpStatus: 500, grpcStatus: GrpcStatus.INTERNAL },
};

export class QuotientError extends Error {
  readonly code: ErrorCode;
  /** Extra machine-readable facts (field name, limit, ...) safe to show to the caller. */
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }

  get httpStatus(): number {
    return SHAPES[this.code].httpStatus;
  }

  get grpcStatus(): number {
    return SHAPES[this.code].grpcStatus;
  }
}

export class ValidationError extends QuotientError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('VALIDATION', message, details);
  }
}

/**
 * A request that cannot be read at all (malformed percent-encoding in its path, an unknown charset
 * or content encoding, a body that is not what its type says): the client's fault, not a form
 * field's. `reason` is the HTTP layer's own name for it (body-parser's `type`), for the logs.
 */
export class BadRequestError extends QuotientError {
  constructor(reason: string, cause?: unknown) {
    super('BAD_REQUEST', `the request cannot be read (${reason})`, { reason }, { cause });
  }
}

/** A request body over the HTTP layer's limits (bytes or form fields). */
export class TooLargeError extends QuotientError {
  constructor(reason: string, limit: number | undefined, cause?: unknown) {
    super('TOO_LARGE', `the request is too large (${reason})`, limit === undefined ? { reason } : { reason, limit }, { cause });
  }
}

export class NotFoundError extends QuotientError {
  constructor(what: string, key: string | number) {
    super('NOT_FOUND', `${what} not found: ${String(key)}`, { what, key });
  }
}

export class AlreadyExistsError extends QuotientError {
  constructor(what: string, key: string | number) {
    super('ALREADY_EXISTS', `${what} already exists: ${String(key)}`, { what, key });
  }
}

export class InsufficientFundsError extends QuotientError {
  constructor(details: { accountId: number; available: number; amount: number; creditLimit: number }) {
    super('INSUFFICIENT_FUNDS', 'insufficient credit', details);
  }
}

export class IdempotencyConflictError extends QuotientError {
  constructor(key: string) {
    super('IDEMPOTENCY_CONFLICT', `idempotency key ${key} was already used for a different request`, { key });
  }
}

export class InvalidStateError extends QuotientError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('INVALID_STATE', message, details);
  }
}

export class ConfigError extends QuotientError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('CONFIG', message, details);
  }
}

export class DatabaseUnavailableError extends QuotientError {
  constructor(message: string, cause?: unknown) {
    super('DATABASE_UNAVAILABLE', message, {}, { cause });
  }
}

export class ForbiddenError extends QuotientError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('FORBIDDEN', message, details);
  }
}

export function isQuotientError(err: unknown): err is QuotientError {
  return err instanceof QuotientError;
}

/** What may be shown to a caller for any thrown value: our own errors as they are, anything else generic. */
export function publicError(err: unknown): { code: ErrorCode; message: string; details: Record<string, unknown> } {
  if (isQuotientError(err)) return { code: err.code, message: err.message, details: err.details };
  return { code: 'INTERNAL', message: 'internal error', details: {} };
}
