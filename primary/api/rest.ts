/**
 * The REST API, `/api/v1` (docs/api.md#rest-api): JSON in and out, a bearer token with the route's
 * scope (requireScopes), errors as problem details (problems.ts), the contract in openapi.ts.
 * Routes only read and check input, call one service and shape the answer; amounts travel as
 * decimal strings in major units and are converted exactly by common/money.ts.
 */
import express, { type RequestHandler, Router } from 'express';
import { z } from 'zod';
import { IdempotencyConflictError, NotFoundError, ValidationError } from '../../common/errors';
import type { Logger } from '../../common/logger';
import { formatDecimal, parseAmount } from '../../common/money';
import type { LedgerEntry } from '../ledger/types';
import type { Services } from '../services';
import { OPENAPI_DOCUMENT } from './openapi';
import { requireScopes } from './oauth';
import { problemMiddleware } from './problems';

const MAX_PAGE = 200;
const DEFAULT_PAGE = 50;
/** Visible ASCII, as the IETF Idempotency-Key draft's examples; short enough to fit the ledger's key with its prefix. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,100}$/;

const adjustmentSchema = z.strictObject({
  amount: z.string().max(40),
  comment: z.string().trim().min(1).max(1000),
});

/** Wraps an async handler once, so a rejection reaches the problem middleware. */
function handle(fn: (...args: Parameters<RequestHandler>) => Promise<void>): RequestHandler {
  return (req, res, next) => {
    fn(req, res, next).catch(next);
  };
}

function fieldError(field: string, message: string): ValidationError {
  return new ValidationError(`${field} ${message}`, { field });
}

function pageLimit(raw: unknown): number {
  if (raw === undefined) return DEFAULT_PAGE;
  const n = typeof raw === 'string' && /^\d{1,4}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= MAX_PAGE)) throw fieldError('limit', `must be a whole number from 1 to ${MAX_PAGE}`);
  return n;
}

/** A cursor is the last username of the page before, base64url: opaque to clients, stable across inserts. */
function cursorAfter(raw: unknown): string | undefined {
  if (raw === undefined) return undefined;
  const text = typeof raw === 'string' ? Buffer.from(raw, 'base64url').toString('utf8') : '';
  if (!text.startsWith('u:') || Buffer.from(text, 'utf8').toString('base64url') !== raw) throw fieldError('cursor', 'is not a cursor this API gave');
  return text.slice(2);
}

const cursorOf = (username: string): string => Buffer.from(`u:${username}`, 'utf8').toString('base64url');

function optionalText(raw: unknown, field: string): string | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || raw.length > 200) throw fieldError(field, 'must be one value of at most 200 characters');
  return raw;
}

export function restRouter(services: Services, logger: Logger): Router {
  const r = Router();
  const { apiClients, users, balances, settings } = services;
  const decimals = async (): Promise<number> => (await settings.currency()).decimals;

  r.use(express.json({ limit: '16kb', strict: true }));

  r.get('/openapi.json', (_req, res) => {
    res.json(OPENAPI_DOCUMENT);
  });

  r.get(
    '/users',
    requireScopes(apiClients, 'users:read'),
    handle(async (req, res) => {
      const limit = pageLimit(req.query.limit);
      const after = cursorAfter(req.query.cursor);
      const search = optionalText(req.query.q, 'q');
      const rows = await users.list({ limit: limit + 1, ...(after !== undefined && { after }), ...(search && { search }) });
      const page = rows.slice(0, limit);
      const d = await decimals();
      res.json({
        users: page.map((u) => ({
          username: u.username,
          fullName: u.fullName,
          email: u.email,
          department: u.department,
          disabled: u.disabled,
          restricted: u.restricted,
          balance: formatDecimal(u.balance, d),
        })),
        next: rows.length > limit ? cursorOf(page[page.length - 1]!.username) : null,
      });
    }),
  );

  r.get(
    '/users/:username',
    requireScopes(apiClients, 'users:read'),
    handle(async (req, res) => {
      const user = await users.detail((await users.getByUsername(String(req.params.username))).id);
      res.json({
        username: user.username,
        fullName: user.fullName,
        email: user.email,
        department: user.department,
        office: user.office,
        disabled: user.disabled,
        restricted: user.account.restricted,
        balance: formatDecimal(user.account.balance, await decimals()),
        creditLimit: formatDecimal(user.effectiveCreditLimit, await decimals()),
        groups: user.groups,
        createdAt: new Date(user.createdAt).toISOString(),
      });
    }),
  );

  r.post(
    '/users/:username/adjustments',
    requireScopes(apiClients, 'balances:write'),
    handle(async (req, res) => {
      const key = req.get('idempotency-key');
      if (key === undefined) throw fieldError('Idempotency-Key', 'header is required for a request that moves money');
      if (!IDEMPOTENCY_KEY.test(key)) throw fieldError('Idempotency-Key', 'must be 1 to 100 visible ASCII characters');
      const parsed = adjustmentSchema.safeParse(req.body ?? {});
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const field = issue?.code === 'unrecognized_keys' ? issue.keys.join(', ') : (issue?.path.join('.') ?? '');
        throw fieldError(field || 'body', issue?.code === 'unrecognized_keys' ? 'is not a field of an adjustment' : (issue?.message ?? 'is invalid'));
      }
      const d = await decimals();
      const amount = parseAmount(parsed.data.amount, d, 'amount');
      const user = await users.getByUsername(String(req.params.username));
      const client = res.locals.apiClient!.client;
      const { entry } = await balances.adjust({
        userId: user.id,
        amount,
        comment: parsed.data.comment,
        // Scoped by client, so two integrations choosing the same key never meet.
        key: `api:${client.id}:${key}`,
        actor: `api:${client.name}`,
      });
      // The ledger compares account, amount and type; the comment is the rest of the body.
      if (entry.replayed && entry.comment !== parsed.data.comment) throw new IdempotencyConflictError(key);
      if (entry.replayed) res.set('Idempotent-Replayed', 'true');
      res.status(201).json(adjustmentAnswer(user.username, entry, d));
    }),
  );

  r.use((req, _res, next) => {
    next(new NotFoundError('route', `${req.method} ${req.baseUrl}${req.path}`));
  });
  r.use(problemMiddleware(logger));
  return r;
}

function adjustmentAnswer(username: string, entry: LedgerEntry, decimals: number): Record<string, unknown> {
  return {
    id: entry.id,
    username,
    amount: formatDecimal(entry.amount, decimals),
    balanceAfter: formatDecimal(entry.balanceAfter, decimals),
    comment: entry.comment,
    createdAt: new Date(entry.createdAt).toISOString(),
  };
}
