/**
 * The primary's HTTP application: health checks now; web tools and the APIs mount here as they land.
 */
import express, { type Express } from 'express';
import type { Logger } from '../../common/logger';
import type { Services } from '../services';
import { errorMiddleware } from './error-middleware';

export function createHttpApp(services: Services, logger: Logger): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);

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

  app.use((_req, res) => {
    res.status(404).json({ error: { code: 'NOT_FOUND', message: 'not found', details: {} } });
  });
  app.use(errorMiddleware(logger));
  return app;
}
