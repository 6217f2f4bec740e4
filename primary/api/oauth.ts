/**
 * OAuth 2 for the REST API (docs/api.md#api-clients): `POST /oauth/token`, the client credentials
 * grant of RFC 6749 §4.4 (client authentication by HTTP Basic or client_id/client_secret in the
 * form, §2.3.1; an optional `scope` narrowing the token), with §5.2's JSON errors; and
 * requireScopes(), the middleware that lets a bearer token (RFC 6750) through when it carries
 * every scope a route needs. Neither logs a request's headers or body, so tokens and secrets
 * never reach the logs; the error middleware logs the path only.
 */
import express, { type RequestHandler, type Response, Router } from 'express';
import type { ApiClientService, Authenticated } from '../api-clients/api-client-service';
import type { Scope } from '../api-clients/scopes';

const REALM = 'quotient';

function oauthError(res: Response, status: number, error: string, description: string): void {
  res.set('Cache-Control', 'no-store').set('Pragma', 'no-cache');
  if (status === 401) res.set('WWW-Authenticate', `Basic realm="${REALM}"`);
  res.status(status).json({ error, error_description: description });
}

/** The client's id and secret from HTTP Basic (each form-urlencoded, §2.3.1) or from the form; null when neither or both are used. */
function clientCredentials(authorization: string | undefined, form: Record<string, unknown>): { clientId: string; clientSecret: string } | null {
  const inForm = typeof form.client_id === 'string' || typeof form.client_secret === 'string';
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '');
  if (basic && !inForm) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return null;
    try {
      const plus = (s: string): string => decodeURIComponent(s.replace(/\+/g, ' '));
      return { clientId: plus(decoded.slice(0, colon)), clientSecret: plus(decoded.slice(colon + 1)) };
    } catch {
      return null;
    }
  }
  if (authorization === undefined && typeof form.client_id === 'string' && typeof form.client_secret === 'string') {
    return { clientId: form.client_id, clientSecret: form.client_secret };
  }
  return null;
}

/** The token endpoint, mounted at the HTTP app's root (outside the web tools and their CSRF check). */
export function oauthRouter(apiClients: ApiClientService): Router {
  const r = Router();
  r.post('/oauth/token', express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 20 }), async (req, res, next) => {
    try {
      const form = (req.body ?? {}) as Record<string, unknown>;
      const credentials = clientCredentials(req.get('authorization'), form);
      if (!credentials) return oauthError(res, 401, 'invalid_client', 'authenticate the client with HTTP Basic or client_id and client_secret (one of them)');
      if (form.grant_type === undefined) return oauthError(res, 400, 'invalid_request', 'grant_type is required');
      if (form.grant_type !== 'client_credentials') return oauthError(res, 400, 'unsupported_grant_type', 'only client_credentials is supported');
      if (form.scope !== undefined && typeof form.scope !== 'string') return oauthError(res, 400, 'invalid_scope', 'scope must be one value');
      const issued = await apiClients.issueToken({ ...credentials, scope: form.scope });
      if ('refused' in issued) {
        if (issued.refused === 'invalid_client') return oauthError(res, 401, 'invalid_client', 'unknown client, wrong secret or revoked client');
        return oauthError(res, 400, 'invalid_scope', 'the scope asks for something unknown or that the client does not hold');
      }
      res.set('Cache-Control', 'no-store').set('Pragma', 'no-cache');
      res.json({ access_token: issued.accessToken, token_type: 'Bearer', expires_in: issued.expiresIn, scope: issued.scope });
    } catch (err) {
      next(err);
    }
  });
  return r;
}

declare module 'express-serve-static-core' {
  interface Locals {
    /** Set by requireScopes(): the API client a bearer token authenticated. */
    apiClient?: Authenticated;
  }
}

/**
 * Lets a request through when its `Authorization: Bearer` token is valid (RFC 6750 §3: 401 with
 * WWW-Authenticate when it is missing, unknown, expired or its client revoked) and carries every
 * one of `scopes` (403 insufficient_scope otherwise); the client is left in res.locals.apiClient.
 */
export function requireScopes(apiClients: ApiClientService, ...scopes: Scope[]): RequestHandler {
  const needed = scopes.join(' ');
  return async (req, res, next) => {
    try {
      const bearer = /^Bearer\s+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(req.get('authorization') ?? '');
      const challenge = (extra: string): string => `Bearer realm="${REALM}"${extra}${needed ? `, scope="${needed}"` : ''}`;
      if (!bearer) {
        res.set('WWW-Authenticate', challenge(''));
        return void res.status(401).json({ error: 'invalid_request', error_description: 'a bearer token is required' });
      }
      const auth = await apiClients.authenticate(bearer[1]!);
      if (!auth) {
        res.set('WWW-Authenticate', challenge(', error="invalid_token"'));
        return void res.status(401).json({ error: 'invalid_token', error_description: 'the token is unknown, expired or revoked' });
      }
      if (scopes.some((s) => !auth.scopes.has(s))) {
        res.set('WWW-Authenticate', challenge(', error="insufficient_scope"'));
        return void res.status(403).json({ error: 'insufficient_scope', error_description: `this needs ${needed}` });
      }
      res.locals.apiClient = auth;
      next();
    } catch (err) {
      next(err);
    }
  };
}
