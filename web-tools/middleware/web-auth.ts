/**
 * Signing in and out of the web tools: throttling first (the account's lock, then the address's
 * delay: signin-throttle.ts), then the scrypt check, then a new session. Every failure looks the
 * same to the caller (unknown user, wrong password, disabled), so the form cannot be used to find
 * out which usernames exist.
 */
import type { Database } from '../../primary/db/connection';
import type { UserService, User } from '../../primary/users/user-service';
import { unmatchableHash, verifyPassword } from '../../primary/users/passwords';
import { SessionStore, type WebSession } from './session-store';
import { USER_POLICY, SigninThrottle, ipKey, userKey, type AddressPolicy } from './signin-throttle';

export type SigninResult =
  { ok: true; token: string; session: WebSession; user: User } | { ok: false; reason: 'invalid' } | { ok: false; reason: 'throttled'; retryAfterMs: number };

/** How an attempt waits out its address's delay (tests pass one that records and returns at once). */
export type Sleep = (ms: number) => Promise<void>;
const sleepFor: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class WebAuth {
  readonly sessions: SessionStore;
  readonly throttle: SigninThrottle;
  private readonly users: UserService;
  private readonly sleep: Sleep;

  constructor(deps: { db: Database; users: UserService; now?: () => number; sleep?: Sleep | undefined; addressPolicy?: AddressPolicy }) {
    const clock = deps.now ? { now: deps.now } : {};
    this.sessions = new SessionStore({ db: deps.db, ...clock });
    this.throttle = new SigninThrottle({ db: deps.db, ...clock, ...(deps.addressPolicy ? { addressPolicy: deps.addressPolicy } : {}) });
    this.users = deps.users;
    this.sleep = deps.sleep ?? sleepFor;
  }

  /**
   * `address` is the client's (behind a trusted proxy, from X-Forwarded-For: primary/http/app.ts).
   * A locked account is refused at once; an address with many failures waits before the check,
   * whatever the password, and is never refused for the address alone.
   */
  async signIn(username: string, password: string, address: string): Promise<SigninResult> {
    const account = userKey(username);
    const client = ipKey(address);
    const wait = await this.throttle.retryAfter([account]);
    if (wait > 0) return { ok: false, reason: 'throttled', retryAfterMs: wait };
    const delay = await this.throttle.delayFor(client);
    if (delay > 0) await this.sleep(delay);
    let user: User | undefined;
    try {
      user = username.trim() === '' ? undefined : await this.users.findByUsername(username);
    } catch {
      user = undefined; // a malformed username is just a failed sign-in
    }
    const hash = user ? await this.users.passwordHashOf(user.id) : null;
    // An unknown username is verified against a hash of the same cost, so both paths cost one scrypt.
    const good = (await verifyPassword(password, hash ?? unmatchableHash())) && hash !== null;
    if (!user || !good || user.disabled) {
      await this.throttle.recordFailure([[account, USER_POLICY]]);
      await this.throttle.recordAddressFailure(client);
      return { ok: false, reason: 'invalid' };
    }
    await this.throttle.clear(account);
    await this.sessions.purgeExpired(); // housekeeping where sessions are made: no scheduler needed
    const { token, session } = await this.sessions.create(user.id);
    return { ok: true, token, session, user };
  }

  async signOut(session: WebSession): Promise<void> {
    await this.sessions.destroy(session.idHash);
  }
}
