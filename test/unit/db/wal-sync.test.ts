import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WalSyncer } from '../../../primary/db/wal-sync';

/** A sync function the test finishes by hand, recording which handles were synced. */
class GatedSync {
  readonly pending: { fd: number; finish: (err?: Error) => void }[] = [];
  readonly synced: number[] = [];
  readonly fn = (fd: number): Promise<void> =>
    new Promise((resolve, reject) => {
      this.pending.push({
        fd,
        finish: (err) => {
          this.synced.push(fd);
          if (err) reject(err);
          else resolve();
        },
      });
    });

  /** Finishes the oldest sync still running. */
  async finishNext(err?: Error): Promise<void> {
    await settle();
    const p = this.pending.shift();
    assert.ok(p, 'no sync is running');
    p.finish(err);
    await settle();
  }
}

/** Lets promise callbacks and the fs handle bookkeeping run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function state(p: Promise<unknown>): () => 'pending' | 'resolved' | 'rejected' {
  let s: 'pending' | 'resolved' | 'rejected' = 'pending';
  p.then(
    () => (s = 'resolved'),
    () => (s = 'rejected'),
  );
  return () => s;
}

describe('WalSyncer', () => {
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quotient-walsync-'));
    file = path.join(dir, 'quotient.db');
    fs.writeFileSync(`${file}-wal`, 'frames');
  });

  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('syncs the directory once for a new handle, then the WAL, and resolves only after the WAL sync', async () => {
    const gate = new GatedSync();
    const syncer = new WalSyncer(file, gate.fn);
    const conn = {};
    const first = state(syncer.sync(conn));
    await gate.finishNext(); // the directory entry
    assert.equal(first(), 'pending');
    await gate.finishNext(); // the WAL
    assert.equal(first(), 'resolved');
    assert.equal(gate.synced.length, 2);
    const second = state(syncer.sync(conn));
    await gate.finishNext();
    assert.equal(second(), 'resolved');
    assert.equal(gate.synced.length, 3, 'the same connection keeps its handle: no second directory sync');
    assert.equal(gate.synced[1], gate.synced[2], 'the WAL handle is reused');
    await syncer.close();
  });

  it('makes commits that arrive during a sync wait for the next one, and share it', async () => {
    const gate = new GatedSync();
    const syncer = new WalSyncer(file, gate.fn);
    const conn = {};
    const warm = syncer.sync(conn);
    await gate.finishNext();
    await gate.finishNext();
    await warm;

    const running = state(syncer.sync(conn));
    const later = [syncer.sync(conn), syncer.sync(conn), syncer.sync(conn)].map(state);
    await gate.finishNext(); // the sync that was running when they arrived
    assert.equal(running(), 'resolved');
    assert.deepEqual(
      later.map((s) => s()),
      ['pending', 'pending', 'pending'],
      'a sync that started before a commit does not cover it',
    );
    assert.equal(gate.pending.length, 1, 'one sync for all three');
    await gate.finishNext();
    assert.deepEqual(
      later.map((s) => s()),
      ['resolved', 'resolved', 'resolved'],
    );
    assert.equal(gate.pending.length, 0);
    await syncer.close();
  });

  it('rejects the callers of a failed sync and runs the next one all the same', async () => {
    const gate = new GatedSync();
    const syncer = new WalSyncer(file, gate.fn);
    const conn = {};
    const first = syncer.sync(conn);
    await gate.finishNext();
    const waiting = state(syncer.sync(conn));
    await gate.finishNext(new Error('EIO'));
    await assert.rejects(first, /EIO/);
    assert.equal(waiting(), 'pending');
    await gate.finishNext();
    assert.equal(waiting(), 'resolved');
    await syncer.close();
  });

  it('opens a new handle (and syncs the directory again) for a new connection, whose WAL may be a new file', async () => {
    const gate = new GatedSync();
    const syncer = new WalSyncer(file, gate.fn);
    const a = syncer.sync({});
    await gate.finishNext();
    await gate.finishNext();
    await a;
    fs.rmSync(`${file}-wal`);
    fs.writeFileSync(`${file}-wal`, 'a new WAL');
    const b = state(syncer.sync({}));
    await gate.finishNext();
    await gate.finishNext();
    assert.equal(b(), 'resolved');
    assert.equal(gate.synced.length, 4, 'directory and WAL, twice');
    assert.equal(fs.fstatSync(gate.synced[3] as number).ino, fs.statSync(`${file}-wal`).ino, 'the new file was synced');
    await syncer.close();
  });

  it('tells observers how long each WAL sync took, until they stop observing', async () => {
    const syncer = new WalSyncer(file, () => new Promise((resolve) => setTimeout(resolve, 5)));
    const seen: number[] = [];
    const stop = syncer.observe((ms) => seen.push(ms));
    await syncer.sync({});
    await syncer.sync({});
    stop();
    await syncer.sync({});
    assert.equal(seen.length, 2, 'one per WAL sync; the directory sync of a new handle is not one');
    for (const ms of seen) assert.ok(ms >= 4, `a 5 ms sync measured ${ms} ms`);
    await syncer.close();
  });

  it('lets the running and the queued sync finish before it closes the handle', async () => {
    const gate = new GatedSync();
    const syncer = new WalSyncer(file, gate.fn);
    const conn = {};
    const first = state(syncer.sync(conn));
    await gate.finishNext(); // the directory
    const queued = state(syncer.sync(conn));
    let closed = false;
    const closing = syncer.close().then(() => (closed = true));
    await assert.rejects(syncer.sync(conn), /closed/);
    await gate.finishNext();
    assert.equal(first(), 'resolved');
    assert.equal(closed, false, 'the queued sync is still to run');
    await gate.finishNext();
    assert.equal(queued(), 'resolved');
    await closing;
    assert.equal(closed, true);
  });

  it('syncs for real with fdatasync by default, and refuses after close', async () => {
    const syncer = new WalSyncer(file);
    await syncer.sync({});
    await syncer.close();
    await assert.rejects(syncer.sync({}), /closed/);
  });
});
