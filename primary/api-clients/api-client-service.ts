/**
 * API clients for the REST API (OAuth 2 client credentials, RFC 6749 §4.4; docs/api.md#api-clients).
 *
 * A client has a public client id and a secret shown once when it is added or rotated and stored
 * only as a scrypt hash (users/passwords.ts). Exchanging the two for an access token stores the
 * token's SHA-256 with its scopes and expiry (a token is 256 random bits, so a fast hash is
 * enough); a bearer token is valid while its row exists, has not expired and its client is not
 * revoked. Revoking or rotating a client deletes its tokens in the same transaction, so they end
 * at once. Adding, revoking and rotating are audited with the actor.
 */
import crypto from 'node:crypto';
import { AlreadyExistsError, NotFoundError, ValidationError } from '../../common/errors';
import { recordAudit } from '../audit/audit-log';
import type { Database } from '../db/connection';
import { isUniqueViolation } from '../db/errors';
import { runKnexTransaction } from '../db/sql-runner';
import { hashPassword, unmatchableHash, verifyPassword } from '../users/passwords';
import { expandScopes, parseScopeNames, type Scope } from './scopes';

/** How long an access token lasts unless the service is built with another lifetime. */
export const DEFAULT_TOKEN_LIFETIME_MS = 60 * 60 * 1000;
const NAME_MAX = 128;
const TARGET = 'api-client';

export interface ApiClient {
  id: number;
  name: string;
  clientId: string;
  /** As given when it was added (an alias such as cloudprint:billing-accounts stays one name). */
  scopes: string[];
  createdBy: string;
  createdAt: number;
  revokedAt: number | null;
}

export interface ClientCredentials {
  client: ApiClient;
  /** Shown once: only its hash is kept. */
  clientSecret: string;
}

export interface IssuedToken {
  accessToken: string;
  /** Seconds. */
  expiresIn: number;
  /** The scope names granted, space-separated as RFC 6749 §3.3 writes them. */
  scope: string;
}

/** Why a token request was refused, with RFC 6749 §5.2's names. */
export type TokenRefusal = 'invalid_client' | 'invalid_scope';

export interface Authenticated {
  client: Pick<ApiClient, 'id' | 'name' | 'clientId'>;
  scopes: ReadonlySet<Scope>;
}

interface ClientRow {
  id: number;
  name: string;
  client_id: string;
  secret_hash: string;
  scopes: string;
  created_by: string;
  created_at: number | string;
  revoked_at: number | string | null;
}

const randomToken = (bytes: number): string => crypto.randomBytes(bytes).toString('base64url');
const sha256 = (text: string): string => crypto.createHash('sha256').update(text).digest('hex');

function toClient(r: ClientRow): ApiClient {
  return {
    id: Number(r.id),
    name: r.name,
    clientId: r.client_id,
    scopes: r.scopes.split(' ').filter((s) => s !== ''),
    createdBy: r.created_by,
    createdAt: Number(r.created_at),
    revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
  };
}

export class ApiClientService {
  private readonly db: Database;
  private readonly now: () => number;
  private readonly tokenLifetimeMs: number;

  constructor(deps: { db: Database; now?: () => number; tokenLifetimeMs?: number }) {
    this.db = deps.db;
    this.now = deps.now ?? Date.now;
    this.tokenLifetimeMs = deps.tokenLifetimeMs ?? DEFAULT_TOKEN_LIFETIME_MS;
  }

  /** Adds a client with these scopes (names as parseScopeNames reads them); the secret is returned once. */
  async add(input: { name: string; scopes: string; actor: string }): Promise<ClientCredentials> {
    const name = input.name.trim();
    if (name === '' || name.length > NAME_MAX) throw new ValidationError(`an API client name needs 1 to ${NAME_MAX} characters`, { field: 'name' });
    const scopes = parseScopeNames(input.scopes);
    if (scopes.length === 0) throw new ValidationError('an API client needs at least one scope', { field: 'scopes' });
    const clientSecret = randomToken(32);
    const secretHash = await hashPassword(clientSecret);
    const now = this.now();
    const clientId = `qc_${crypto.randomBytes(12).toString('hex')}`;
    try {
      await runKnexTransaction(this.db, async (trx) => {
        await trx('api_clients').insert({
          name,
          client_id: clientId,
          secret_hash: secretHash,
          scopes: scopes.join(' '),
          created_by: input.actor,
          created_at: now,
        });
        await recordAudit(trx, { actor: input.actor, action: 'api-client.add', targetType: TARGET, targetId: name, details: { clientId, scopes } }, now);
      });
    } catch (err) {
      if (isUniqueViolation(err, 'name')) throw new AlreadyExistsError('API client', name);
      throw err;
    }
    return { client: await this.get(name), clientSecret };
  }

  async get(name: string): Promise<ApiClient> {
    const row = (await this.db.knex('api_clients').where({ name: name.trim() }).first()) as ClientRow | undefined;
    if (!row) throw new NotFoundError('API client', name.trim());
    return toClient(row);
  }

  /** Every client, revoked ones too, by name. */
  async list(): Promise<ApiClient[]> {
    return ((await this.db.knex('api_clients').orderBy('name')) as ClientRow[]).map(toClient);
  }

  /** Revokes a client and ends its tokens; revoking it again changes nothing (and is not audited). */
  async revoke(name: string, actor: string): Promise<{ changed: boolean }> {
    const client = await this.get(name);
    if (client.revokedAt !== null) return { changed: false };
    const now = this.now();
    await runKnexTransaction(this.db, async (trx) => {
      await trx('api_clients').where({ id: client.id }).update({ revoked_at: now });
      await trx('api_tokens').where({ client_id: client.id }).delete();
      await recordAudit(trx, { actor, action: 'api-client.revoke', targetType: TARGET, targetId: client.name, details: { clientId: client.clientId } }, now);
    });
    return { changed: true };
  }

  /** Gives a client a new secret (returned once) and ends the tokens issued with the old one. */
  async rotate(name: string, actor: string): Promise<ClientCredentials> {
    const client = await this.get(name);
    if (client.revokedAt !== null) throw new ValidationError(`API client ${client.name} is revoked; add a new one instead`, { name: client.name });
    const clientSecret = randomToken(32);
    const secretHash = await hashPassword(clientSecret);
    const now = this.now();
    await runKnexTransaction(this.db, async (trx) => {
      await trx('api_clients').where({ id: client.id }).update({ secret_hash: secretHash });
      await trx('api_tokens').where({ client_id: client.id }).delete();
      await recordAudit(trx, { actor, action: 'api-client.rotate', targetType: TARGET, targetId: client.name, details: { clientId: client.clientId } }, now);
    });
    return { client, clientSecret };
  }

  /**
   * The client credentials grant: an access token for a client whose secret matches, carrying the
   * requested scope names (each one the client holds; all of the client's when none is asked for).
   * An unknown client id costs the same hash as a known one.
   */
  async issueToken(input: { clientId: string; clientSecret: string; scope?: string | undefined }): Promise<IssuedToken | { refused: TokenRefusal }> {
    const row = (await this.db.knex('api_clients').where({ client_id: input.clientId }).first()) as ClientRow | undefined;
    const matches = await verifyPassword(input.clientSecret, row?.secret_hash ?? unmatchableHash());
    if (!row || !matches || row.revoked_at !== null) return { refused: 'invalid_client' };
    const held = toClient(row).scopes;
    let names = held;
    if (input.scope !== undefined && input.scope.trim() !== '') {
      let asked: string[];
      try {
        asked = parseScopeNames(input.scope);
      } catch {
        return { refused: 'invalid_scope' };
      }
      const allowed = expandScopes(held);
      if ([...expandScopes(asked)].some((s) => !allowed.has(s))) return { refused: 'invalid_scope' };
      names = asked;
    }
    const accessToken = randomToken(32);
    const now = this.now();
    await runKnexTransaction(this.db, async (trx) => {
      // Expired tokens of this client go as it gets a new one, so the table holds live ones only.
      await trx('api_tokens').where({ client_id: row.id }).andWhere('expires_at', '<=', now).delete();
      await trx('api_tokens').insert({
        token_hash: sha256(accessToken),
        client_id: row.id,
        scopes: [...expandScopes(names)].join(' '),
        issued_at: now,
        expires_at: now + this.tokenLifetimeMs,
      });
    });
    return { accessToken, expiresIn: Math.floor(this.tokenLifetimeMs / 1000), scope: names.join(' ') };
  }

  /** The client and scopes a bearer token carries, or null when it is unknown, expired or its client revoked. */
  async authenticate(accessToken: string): Promise<Authenticated | null> {
    const row = (await this.db
      .knex('api_tokens as t')
      .join('api_clients as c', 'c.id', 't.client_id')
      .where('t.token_hash', sha256(accessToken))
      .first('c.id', 'c.name', 'c.client_id', 'c.revoked_at', 't.scopes', 't.expires_at')) as
      { id: number; name: string; client_id: string; revoked_at: number | string | null; scopes: string; expires_at: number | string } | undefined;
    if (!row || row.revoked_at !== null || Number(row.expires_at) <= this.now()) return null;
    return {
      client: { id: Number(row.id), name: row.name, clientId: row.client_id },
      scopes: new Set(row.scopes.split(' ').filter((s) => s !== '') as Scope[]),
    };
  }
}
