/**
 * The one place that sorts errors into classes for every route (the web tools' HTML pages, and
 * the JSON answers of primary/http/error-middleware.ts, which imports it from here so that the
 * web tools never import the HTTP server): QuotientErrors answer with their status and code; what
 * the HTTP layer refuses before a route runs (body-parser's limits and charsets, the router's
 * percent-decoding of path parameters) is the client's fault and answers 400 or 413; anything
 * else is a server error, answered as a generic 500 without internals.
 */
import type { Request } from 'express';
import { BadRequestError, QuotientError, TooLargeError, isQuotientError } from '../../common/errors';
import type { Logger } from '../../common/logger';

/** What express, its router and body-parser attach to the errors they create (http-errors). */
interface HttpLayerError {
  status?: unknown;
  statusCode?: unknown;
  type?: unknown;
  limit?: unknown;
}

/** body-parser's types for a body over its limits. */
const TOO_LARGE_TYPES = new Set(['entity.too.large', 'parameters.too.many']);

/**
 * The QuotientError an error stands for: itself, or the translation of an error the HTTP layer
 * raised about the request (4xx http-errors, a URIError from percent-decoding); undefined for
 * anything else, which is ours to fix (a 500).
 */
export function requestError(err: unknown): QuotientError | undefined {
  if (isQuotientError(err)) return err;
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as HttpLayerError;
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  const type = typeof e.type === 'string' ? e.type : '';
  if (status === 413 || TOO_LARGE_TYPES.has(type)) return new TooLargeError(type || 'entity.too.large', typeof e.limit === 'number' ? e.limit : undefined, err);
  // Every other refusal of the request (415 unknown charset or encoding, 400 unreadable body or
  // path) is one class for the client: the request cannot be read, 400.
  if (status !== undefined && status >= 400 && status < 500) return new BadRequestError(type || (err instanceof URIError ? 'uri' : `http.${status}`), err);
  if (err instanceof URIError) return new BadRequestError('uri', err);
  return undefined;
}

/**
 * Logs an error by its class: server errors with their stack, refusals of unreadable or oversized
 * requests as client errors (at warn, with the reason only: never the body, which may hold a
 * password), and a service's own 4xx answers not at all (they are the product working).
 */
export function logRequestError(logger: Logger, err: unknown, known: QuotientError | undefined, req: Request, what: string): void {
  const status = known?.httpStatus ?? 500;
  if (status >= 500) logger.error({ err, method: req.method, path: req.path }, `${what}: request failed`);
  else if (known && (known.code === 'BAD_REQUEST' || known.code === 'TOO_LARGE')) {
    logger.warn({ method: req.method, path: req.path, status, code: known.code, details: known.details, ip: req.ip }, `${what}: client error`);
  }
}
