/**
 * The one gRPC error mapping: a QuotientError answers with its status and message; anything else
 * is logged and answered INTERNAL without internals. `unary()` wraps a promise-returning handler
 * so every handler answers exactly once and returns after answering.
 */
import * as grpc from '@grpc/grpc-js';
import { isQuotientError } from '../../common/errors';
import type { Logger } from '../../common/logger';

export function toServiceError(err: unknown, logger: Logger): Partial<grpc.StatusObject> {
  if (isQuotientError(err)) return { code: err.grpcStatus as grpc.status, details: err.message };
  logger.error({ err }, 'gRPC call failed');
  return { code: grpc.status.INTERNAL, details: 'internal error' };
}

export function unary<Req, Res>(logger: Logger, handler: (call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    handler(call).then(
      (response) => callback(null, response),
      (err: unknown) => callback(toServiceError(err, logger)),
    );
  };
}

/** The authenticated secondary's name (the auth interceptor has checked it). */
export function secondaryOf(call: { metadata: grpc.Metadata }): string {
  return String(call.metadata.get(SECONDARY_HEADER)[0] ?? '');
}

export const SECONDARY_HEADER = 'x-quotient-secondary';
