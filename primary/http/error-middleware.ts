/**
 * The one HTTP error middleware: QuotientErrors answer with their status and code; anything else
 * is logged and answered as a generic 500 without internals.
 */
import type { ErrorRequestHandler } from 'express';
import { isQuotientError, publicError } from '../../common/errors';
import type { Logger } from '../../common/logger';

export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const status = isQuotientError(err) ? err.httpStatus : 500;
    if (status >= 500) logger.error({ err, path: req.path }, 'request failed');
    res.status(status).json({ error: publicError(err) });
  };
}
