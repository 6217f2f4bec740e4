/**
 * How the secondary reads a gRPC failure: which statuses are worth retrying (the connection or
 * the primary's load, not the request), which mean "the primary cannot decide now" (apply the
 * printer's failure mode), and which say the event itself is wrong and never will succeed.
 */
import { status } from '@grpc/grpc-js';

const RETRYABLE = new Set<number>([status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.RESOURCE_EXHAUSTED, status.ABORTED]);

/** The request itself is at fault: retrying the same bytes can never succeed. */
const PERMANENT = new Set<number>([
  status.INVALID_ARGUMENT,
  status.NOT_FOUND,
  status.ALREADY_EXISTS,
  status.PERMISSION_DENIED,
  status.FAILED_PRECONDITION,
  status.OUT_OF_RANGE,
  status.UNIMPLEMENTED,
]);

/** The gRPC status code of an error from a call, or undefined for anything else. */
export function grpcCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED: the same call may succeed later. */
export function isRetryable(err: unknown): boolean {
  const code = grpcCode(err);
  return code !== undefined && RETRYABLE.has(code);
}

export function isPermanentCode(code: number): boolean {
  return PERMANENT.has(code);
}

/** Whether an answer to a call means "the primary did not decide" rather than "the request is wrong". */
export function isPermanent(err: unknown): boolean {
  const code = grpcCode(err);
  return code !== undefined && PERMANENT.has(code);
}

export function isUnauthenticated(err: unknown): boolean {
  return grpcCode(err) === status.UNAUTHENTICATED;
}

/** A short description for logs: "UNAVAILABLE: No connection established". */
export function describeGrpcError(err: unknown): string {
  const code = grpcCode(err);
  const details = (err as { details?: unknown } | null)?.details;
  const message = typeof details === 'string' && details ? details : ((err as Error | null)?.message ?? String(err));
  return code === undefined ? message : `${status[code] ?? code}: ${message}`;
}
