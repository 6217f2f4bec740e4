/**
 * The cluster secret a primary and its secondaries share: from the configuration
 * (QUOTIENT_CLUSTER_SECRET), or generated on first start into <dataDir>/cluster-secret (mode
 * 0600) so a fresh primary is never open to anyone; and its constant-time comparison.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../common/errors';

export const MIN_SECRET_LENGTH = 16;

export function resolveClusterSecret(configured: string, dataDir: string): { secret: string; file?: string } {
  if (configured) {
    if (configured.length < MIN_SECRET_LENGTH) throw new ConfigError(`clusterSecret must be at least ${MIN_SECRET_LENGTH} characters`);
    return { secret: configured };
  }
  const file = path.join(dataDir, 'cluster-secret');
  if (fs.existsSync(file)) {
    const secret = fs.readFileSync(file, 'utf8').trim();
    if (secret.length < MIN_SECRET_LENGTH) throw new ConfigError(`${file} holds a secret shorter than ${MIN_SECRET_LENGTH} characters`);
    return { secret, file };
  }
  const secret = crypto.randomBytes(24).toString('base64url');
  fs.writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  return { secret, file };
}

/**
 * A check of given secrets against `expected` in constant time (hashing first makes the lengths
 * equal); the expected digest is computed once, since every gRPC call is checked.
 */
export function secretMatcher(expected: string): (given: string) => boolean {
  const a = crypto.createHash('sha256').update(expected).digest();
  return (given) => crypto.timingSafeEqual(a, crypto.createHash('sha256').update(given).digest());
}
