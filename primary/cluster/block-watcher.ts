/**
 * Keeps the set of blocked users (restricted users who cannot spend anything more) current and
 * announces each change: at once for money changes this primary commits (db 'accountsChanged'),
 * and by a full resynchronisation every RESYNC_MS for changes made elsewhere (the CLI, another
 * primary sharing the database). Proxy secondaries receive the changes on Cluster.Watch.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../../common/logger';
import type { Database } from '../db/connection';
import { runReads } from '../db/sql-runner';
import type { SettingsService } from '../settings/settings-service';
import { blockedUsernames } from './block-list';

export interface BlockChange {
  username: string;
  blocked: boolean;
  reason: string;
}

export const RESYNC_MS = 15_000;
export const BLOCK_REASON = 'no credit left';

export class BlockWatcher {
  /** Emits 'change' with a BlockChange. */
  readonly events = new EventEmitter();
  private blocked = new Set<string>();
  private queue: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  /** Accounts changed since the last recheck began: every commit that arrives meanwhile joins one recheck. */
  private pending = new Set<number>();
  private readonly onAccounts = (ids: number[]): void => {
    const queued = this.pending.size > 0;
    for (const id of ids) this.pending.add(id);
    if (queued) return;
    this.enqueue(() => {
      const accountIds = [...this.pending];
      this.pending.clear();
      return this.recheck(accountIds);
    });
  };

  constructor(private readonly deps: { db: Database; settings: SettingsService; logger: Logger; resyncMs?: number }) {
    this.events.setMaxListeners(0);
  }

  async start(): Promise<void> {
    this.blocked = new Set(await blockedUsernames(this.deps.db, await this.deps.settings.get('accounts.defaultCreditLimit')));
    this.deps.db.events.on('accountsChanged', this.onAccounts);
    this.timer = setInterval(() => this.enqueue(() => this.resync()), this.deps.resyncMs ?? RESYNC_MS);
    this.timer.unref();
  }

  stop(): void {
    this.deps.db.events.off('accountsChanged', this.onAccounts);
    if (this.timer) clearInterval(this.timer);
  }

  /** Every blocked user now. */
  snapshot(): string[] {
    return [...this.blocked].sort();
  }

  /** Changes are worked out one at a time, in the order they happened. */
  private enqueue(work: () => Promise<void>): void {
    this.queue = this.queue.then(work).catch((err: unknown) => this.deps.logger.warn({ err }, 'block list update failed'));
  }

  private async recheck(accountIds: number[]): Promise<void> {
    const limit = await this.deps.settings.get('accounts.defaultCreditLimit');
    for (let i = 0; i < accountIds.length; i += 500) await this.recheckChunk(accountIds.slice(i, i + 500), limit);
  }

  private async recheckChunk(accountIds: number[], limit: number): Promise<void> {
    // After every charge commit: a prepared statement (runReads), not a knex query built each time.
    const rows = await runReads(this.deps.db, (q) =>
      q.all<{ username: string; restricted: number | boolean; balance: number | string; reserved: number | string; credit_limit: number | string | null }>(
        `SELECT users.username, accounts.restricted, accounts.balance, accounts.reserved, accounts.credit_limit
           FROM accounts JOIN users ON users.id = accounts.user_id
          WHERE accounts.type = 'personal' AND accounts.id IN (${accountIds.map(() => '?').join(',')})`,
        accountIds,
      ),
    );
    for (const r of rows) {
      const blocked = Boolean(r.restricted) && Number(r.balance) - Number(r.reserved) <= -(r.credit_limit === null ? limit : Number(r.credit_limit));
      this.apply(r.username, blocked);
    }
  }

  private async resync(): Promise<void> {
    const now = new Set(await blockedUsernames(this.deps.db, await this.deps.settings.get('accounts.defaultCreditLimit')));
    for (const username of this.blocked) if (!now.has(username)) this.apply(username, false);
    for (const username of now) this.apply(username, true);
  }

  private apply(username: string, blocked: boolean): void {
    if (this.blocked.has(username) === blocked) return;
    if (blocked) this.blocked.add(username);
    else this.blocked.delete(username);
    this.events.emit('change', { username, blocked, reason: blocked ? BLOCK_REASON : '' } satisfies BlockChange);
  }
}
