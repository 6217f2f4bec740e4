/**
 * Durable SQLite commits that do not block the event loop. A money transaction commits with
 * synchronous=NORMAL, which writes its WAL frames without syncing them, and then waits here for
 * an fdatasync of the WAL file that runs on libuv's thread pool. Commits made while a sync is
 * running share the next one (group fsync). The guarantee is the same as synchronous=FULL in WAL
 * mode: nothing is acknowledged before its frames are on disk, and the WAL is replayed in order,
 * so a power cut keeps a prefix of the acknowledged transactions and loses none of them.
 */
import fs from 'node:fs';
import path from 'node:path';

/** Syncs a file's data to disk; fs.fdatasync by default, replaceable in tests of the coalescing. */
export type SyncFile = (fd: number) => Promise<void>;

const fdatasync: SyncFile = (fd) => new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));

export class WalSyncer {
  /** The sync on its way to disk, and the one that must start after it (commits made meanwhile). */
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;
  private nextFor: object | undefined;
  /** The WAL handle, and the connection it was opened for. */
  private fd: number | undefined;
  private connection: object | undefined;
  private closed = false;
  private readonly observers = new Set<(ms: number) => void>();

  constructor(
    /** The database file; its WAL is `<file>-wal`. */
    private readonly databaseFile: string,
    private readonly syncFile: SyncFile = fdatasync,
  ) {}

  /**
   * Resolves once everything `connection` committed before this call is on disk. A sync already
   * running may have started before this caller's commit wrote its frames, so the caller waits
   * for the one after it; every caller that arrives meanwhile shares that one.
   */
  sync(connection: object): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`${this.databaseFile} is closed`));
    if (!this.running) return this.start(connection);
    // The queued sync is for another connection's WAL handle (the pool replaced it): go after it.
    if (this.next && this.nextFor !== connection) {
      const after = (): Promise<void> => this.sync(connection);
      return this.next.then(after, after);
    }
    if (!this.next) {
      this.nextFor = connection;
      this.next = this.running.then(
        () => this.start(connection),
        () => this.start(connection),
      );
    }
    return this.next;
  }

  /** Calls `observer` with the duration of every WAL sync (ms) until the returned function is called: for benchmarks and diagnostics. */
  observe(observer: (ms: number) => void): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /**
   * Refuses new syncs, lets the running and the queued one finish (their callers were promised
   * them), then closes the WAL handle. SQLite itself syncs and checkpoints when its connection closes.
   */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([this.running, this.next]);
    this.closeFd();
  }

  private start(connection: object): Promise<void> {
    this.next = undefined;
    this.nextFor = undefined;
    const run = this.syncWal(connection).finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }

  /**
   * SQLite deletes the WAL only when its last connection closes. While one connection stays
   * open the WAL is the same file, so the handle is opened once per connection, after its first
   * commit; a new connection (the pool replaced one) may have made a new WAL, so it gets a new
   * handle, and the new file's directory entry is synced too, as SQLite does for a new WAL.
   */
  private async syncWal(connection: object): Promise<void> {
    if (this.fd === undefined || connection !== this.connection) {
      this.closeFd();
      const wal = `${this.databaseFile}-wal`;
      this.fd = fs.openSync(wal, 'r');
      this.connection = connection;
      await this.syncDirectory(path.dirname(wal));
    }
    const started = performance.now();
    await this.syncFile(this.fd);
    if (this.observers.size > 0) {
      const ms = performance.now() - started;
      for (const o of this.observers) o(ms);
    }
  }

  private closeFd(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    this.connection = undefined;
  }

  private async syncDirectory(dir: string): Promise<void> {
    const fd = fs.openSync(dir, 'r');
    try {
      await this.syncFile(fd);
    } finally {
      fs.closeSync(fd);
    }
  }
}
