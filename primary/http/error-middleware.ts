/**
 * The HTTP server's one JSON error answer, for every path the web tools do not answer (their
 * pages have their own HTML error page): errors are sorted into classes by requestError() and
 * logged by logRequestError() (web-tools/middleware/request-errors.ts); unknown errors become a
 * generic 500 without internals.
 */
import type { ErrorRequestHandler } from 'express';
import { publicError } from '../../common/errors';
import type { Logger } from '../../common/logger';
import { logRequestError, requestError } from '../../web-tools/middleware/request-errors';

export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const known = requestError(err);
    logRequestError(logger, err, known, req, 'http');
    res.status(known?.httpStatus ?? 500).json({ error: publicError(known ?? err) });
  };
}
