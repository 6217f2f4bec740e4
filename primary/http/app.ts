/**
 * The primary's HTTP application: security headers, health checks, the web tools (HTML pages),
 * and a JSON 404 and error answer for everything else; the APIs mount here as they land.
 */
import express, { type Express } from 'express';
import type { Logger } from '../../common/logger';
import type { SecondaryRegistry } from '../cluster/secondary-registry';
import type { Services } from '../services';
import { createWebTools } from '../../web-tools/routes';
import { errorMiddleware } from './error-middleware';
import { securityHeaders } from './security-headers';

export function createHttpApp(services: Services, logger: Logger, opts: { secondaries?: SecondaryRegistry } = {}): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(securityHeaders());

  /** Liveness and readiness in one: 200 when the database answers, 503 when it does not. */
  app.get('/healthz', async (_req, res) => {
    try {
      await services.db.knex.raw('select 1');
      res.json({ status: 'ok', database: services.db.dialect });
    } catch (err) {
      logger.warn({ err }, 'health check: database unavailable');
      res.status(503).json({ status: 'unavailable', database: services.db.dialect });
    }
  });

  // User and admin pages; paths that are not theirs fall through to the JSON answers below.
  app.use(createWebTools({ services, logger, secondaries: opts.secondaries }));

  app.use((_req, res) => {
    res.status(404).json({ error: { code: 'NOT_FOUND', message: 'not found', details: {} } });
  });
  app.use(errorMiddleware(logger));
  return app;
}
