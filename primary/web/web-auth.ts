/**
 * Signing in and out of the web tools: throttling first, then the scrypt check, then a new
 * session. Every failure looks the same to the caller (unknown user, wrong password, disabled),
 * so the form cannot be used to find out which usernames exist.
 */
import type { Database } from '../db/connection';
import type { UserService, User } from '../users/user-service';
import { verifyPassword } from '../users/passwords';
import { SessionStore, type WebSession } from './session-store';
import { IP_POLICY, USER_POLICY, SigninThrottle, ipKey, userKey } from './signin-throttle';

export type SigninResult =
  | { ok: true; token: string; session: WebSession; user: User }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'throttled'; retryAfterMs: number };

/** Verified against when the username is unknown, so both paths cost one scrypt. */
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

export class WebAuth {
  readonly sessions: SessionStore;
  readonly throttle: SigninThrottle;
  private readonly users: UserService;

  constructor(deps: { db: Database; users: UserService; now?: () => number }) {
    const clock = deps.now ? { now: deps.now } : {};
    this.sessions = new SessionStore({ db: deps.db, ...clock });
    this.throttle = new SigninThrottle({ db: deps.db, ...clock });
    this.users = deps.users;
  }

  async signIn(username: string, password: string, address: string): Promise<SigninResult> {
    const keys = [userKey(username), ipKey(address)];
    const wait = await this.throttle.retryAfter(keys);
    if (wait > 0) return { ok: false, reason: 'throttled', retryAfterMs: wait };
    let user: User | undefined;
    try {
      user = username.trim() === '' ? undefined : await this.users.findByUsername(username);
    } catch {
      user = undefined; // a malformed username is just a failed sign-in
    }
    const hash = user ? await this.users.passwordHashOf(user.id) : null;
    const good = (await verifyPassword(password, hash ?? DUMMY_HASH)) && hash !== null;
    if (!user || !good || user.disabled) {
      await this.throttle.recordFailure([[keys[0] ?? '', USER_POLICY], [keys[1] ?? '', IP_POLICY]]);
      return { ok: false, reason: 'invalid' };
    }
    await this.throttle.clear(keys[0] ?? '');
    await this.sessions.purgeExpired(); // housekeeping where sessions are made: no scheduler needed
    const { token, session } = await this.sessions.create(user.id);
    return { ok: true, token, session, user };
  }

  async signOut(session: WebSession): Promise<void> {
    await this.sessions.destroy(session.idHash);
  }
}
