/**
 * The primary's HTTP application: security headers, health checks, the web tools (HTML pages),
 * the OAuth token endpoint (primary/api/oauth.ts), and a JSON 404 and error answer for everything
 * else; the other APIs mount here as they land.
 * X-Forwarded-For and X-Forwarded-Proto are believed only from the configured trusted proxies
 * (`trustedProxies`): then `req.ip` is the client behind them (the nearest address in the chain
 * that is not a trusted proxy, so a client cannot name itself by sending the header) and
 * `req.secure` follows the proxy's TLS. From anyone else the headers are ignored.
 */
import express, { type Express } from 'express';
import type { Logger } from '../../common/logger';
import type { SecondaryRegistry } from '../cluster/secondary-registry';
import type { Services } from '../services';
import type { Sleep } from '../../web-tools/middleware/web-auth';
import { createWebTools } from '../../web-tools/routes';
import { oauthRouter } from '../api/oauth';
import { restRouter } from '../api/rest';
import { errorMiddleware } from './error-middleware';
import { securityHeaders } from './security-headers';

export interface HttpAppOptions {
  secondaries?: SecondaryRegistry;
  /** Addresses, CIDR ranges or loopback/linklocal/uniquelocal (validated by the config). */
  trustedProxies?: readonly string[];
  /** How a sign-in waits out its address's delay (tests record it instead of waiting). */
  signinSleep?: Sleep | undefined;
}

export function createHttpApp(services: Services, logger: Logger, opts: HttpAppOptions = {}): Express {
  const app = express();
  app.disable('x-powered-by');
  const proxies = opts.trustedProxies ?? [];
  app.set('trust proxy', proxies.length > 0 ? [...proxies] : false);
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

  // The OAuth token endpoint: before the web tools, so their sessions and CSRF check never see it.
  app.use(oauthRouter(services.apiClients));
  app.use('/api/v1', restRouter(services, logger));

  // User and admin pages; paths that are not theirs fall through to the JSON answers below.
  app.use(createWebTools({ services, logger, secondaries: opts.secondaries, signinSleep: opts.signinSleep }));

  app.use((_req, res) => {
    res.status(404).json({ error: { code: 'NOT_FOUND', message: 'not found', details: {} } });
  });
  app.use(errorMiddleware(logger));
  return app;
}
