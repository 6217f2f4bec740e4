/**
 * Password hashing with scrypt (a slow, memory-hard KDF from node:crypto), in a self-describing
 * format: scrypt$N$r$p$salt$hash (base64), so a hash verifies whatever cost made it. Verification
 * is constant-time.
 */
import crypto from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(crypto.scrypt) as (pw: string, salt: Buffer, len: number, opts: crypto.ScryptOptions) => Promise<Buffer>;
const KEY_LEN = 32;
const MAX_MEM = 64 * 1024 * 1024;

/** scrypt's cost parameters: N (CPU and memory, a power of two), r (block size), p (parallelism). */
export interface HashCost {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** The cost of every hash a deployment makes: 16 MiB of memory and tens of milliseconds each. */
export const PRODUCTION_HASH_COST: HashCost = Object.freeze({ N: 16384, r: 8, p: 1 });

let hashCost: HashCost = PRODUCTION_HASH_COST;

/**
 * For the test harness only (test/utils/mocha-hooks.ts): makes the hashes this process creates
 * from now on cost `cost`, so the thousands of users the tests create do not each take tens of
 * milliseconds. No configuration, flag or environment variable reaches it, a primary started as
 * a process never calls it, and a unit test fails if anything outside test/ does.
 */
export function setHashCostForTests(cost: HashCost): void {
  hashCost = Object.freeze({ ...cost });
}

export async function hashPassword(password: string): Promise<string> {
  const { N, r, p } = hashCost;
  const salt = crypto.randomBytes(16);
  const hash = await scrypt(password.normalize('NFKC'), salt, KEY_LEN, { N, r, p, maxmem: MAX_MEM });
  return ['scrypt', N, r, p, salt.toString('base64'), hash.toString('base64')].join('$');
}

export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  if (!stored) return false;
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scrypt(password.normalize('NFKC'), Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: MAX_MEM,
  });
  return actual.length === expected.length && crypto.timingSafeEqual(actual, expected);
}

/**
 * A hash no password matches (all-zero salt and key), at the cost new hashes are made with: what a
 * sign-in verifies against when the username is unknown, so that costs what a known user's does.
 */
export function unmatchableHash(): string {
  const { N, r, p } = hashCost;
  return ['scrypt', N, r, p, Buffer.alloc(16).toString('base64'), Buffer.alloc(KEY_LEN).toString('base64')].join('$');
}

/** A random password people can type: 16 characters from an unambiguous alphabet. */
export function generatePassword(length = 16): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789';
  const bytes = crypto.randomBytes(length);
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}
