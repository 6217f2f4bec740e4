/**
 * The REST API's errors as RFC 9457 problem details (`application/problem+json`): the one mapping
 * from the errors module's codes to a stable `type` URI and a `title`, and the error middleware of
 * the `/api/v1` router. The types are identifiers under quotient.example (a reserved name, so no
 * one mistakes them for pages to fetch); clients branch on `type` (or `code`), never on `detail`.
 */
import type { ErrorRequestHandler, Response } from 'express';
import { type ErrorCode, publicError } from '../../common/errors';
import type { Logger } from '../../common/logger';
import { logRequestError, requestError } from '../../web-tools/middleware/request-errors';

export const PROBLEM_BASE = 'https://quotient.example/problems/';

/** Each code's `type` (PROBLEM_BASE + slug) and `title`, in one place. */
export const PROBLEMS: Readonly<Record<ErrorCode, { slug: string; title: string }>> = {
  VALIDATION: { slug: 'validation', title: 'The request has invalid fields' },
  BAD_REQUEST: { slug: 'bad-request', title: 'The request cannot be read' },
  TOO_LARGE: { slug: 'too-large', title: 'The request is too large' },
  NOT_FOUND: { slug: 'not-found', title: 'Not found' },
  ALREADY_EXISTS: { slug: 'already-exists', title: 'Already exists' },
  INSUFFICIENT_FUNDS: { slug: 'insufficient-funds', title: 'Insufficient credit' },
  IDEMPOTENCY_CONFLICT: { slug: 'idempotency-conflict', title: 'The idempotency key was used for a different request' },
  INVALID_STATE: { slug: 'invalid-state', title: 'Not possible in the current state' },
  UNAUTHENTICATED: { slug: 'unauthenticated', title: 'Authentication is required' },
  FORBIDDEN: { slug: 'forbidden', title: 'Forbidden' },
  CONFIG: { slug: 'internal', title: 'Internal error' },
  DATABASE_UNAVAILABLE: { slug: 'unavailable', title: 'The database is unavailable' },
  INTERNAL: { slug: 'internal', title: 'Internal error' },
};

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  /** For VALIDATION: which fields are wrong, each with why. */
  errors?: { field: string; detail: string }[];
}

/** The problem document for any thrown value; unknown errors become `internal` without their message. */
export function problemOf(err: unknown): Problem {
  const known = requestError(err);
  const { code, message, details } = publicError(known ?? err);
  const status = known?.httpStatus ?? 500;
  const { slug, title } = PROBLEMS[code];
  const problem: Problem = { type: PROBLEM_BASE + slug, title, status, detail: code === 'CONFIG' ? 'internal error' : message, code };
  if (code === 'VALIDATION' && typeof details.field === 'string') problem.errors = [{ field: details.field, detail: message }];
  return problem;
}

export function sendProblem(res: Response, problem: Problem): void {
  res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
}

/** The `/api/v1` router's error middleware: logs as the HTTP app does, answers a problem. */
export function problemMiddleware(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    logRequestError(logger, err, requestError(err), req, 'api');
    sendProblem(res, problemOf(err));
  };
}
