import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Outbox, type NewOutboxEvent } from '../../../secondary/outbox/outbox';
import { OutboxWriteError } from '../../../secondary/outbox/outbox-errors';
import { commitEvent, offlineEvent, releaseEvent } from '../../../secondary/outbox/job-events';
import { mountTinyTmpfs, remountReadOnly, removeDir, silentLogger, tempDir, unmount } from '../../unit/secondary/helpers';

const event = (n: number): NewOutboxEvent => commitEvent(`urn:uuid:job-${n}`, n);

describe('Outbox', () => {
  let dir: string;
  let outbox: Outbox;
  let clock: number;

  const open = (extra: Partial<Parameters<typeof Outbox.open>[0]> = {}): Outbox =>
    Outbox.open({ dataDir: dir, logger: silentLogger, now: () => clock, minFreeBytes: 0, ...extra });

  beforeEach(() => {
    dir = tempDir();
    clock = 1_700_000_000_000;
    outbox = open();
  });

  afterEach(() => {
    outbox.close();
    removeDir(dir);
  });

  describe('open()', () => {
    it('keeps its events in <dataDir>/outbox.db in WAL mode with synchronous=FULL', () => {
      assert.equal(outbox.file, path.join(dir, 'outbox.db'));
      assert.ok(fs.existsSync(outbox.file));
      const db = new Database(outbox.file, { readonly: true });
      try {
        assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      } finally {
        db.close();
      }
      // synchronous is per connection; read it through the outbox's own handle.
      assert.equal((outbox as unknown as { db: { pragma(s: string, o: object): unknown } }).db.pragma('synchronous', { simple: true }), 2);
    });
  });

  describe('enqueue()', () => {
    it('keeps events across a close and a reopen (durable once the promise resolves)', async () => {
      await outbox.enqueue(event(1));
      await outbox.enqueue(releaseEvent('urn:uuid:job-2', 'backend failed'));
      outbox.close();
      outbox = open();
      const batch = outbox.nextBatch(10);
      assert.deepEqual(
        batch.map((e) => [e.kind, e.key, e.payload, e.enqueuedAt, e.attempts]),
        [
          ['job.commit', 'job:urn:uuid:job-1', { commit: { jobId: 'urn:uuid:job-1', printedPages: 1 } }, clock, 0],
          ['job.release', 'job:urn:uuid:job-2', { release: { jobId: 'urn:uuid:job-2', reason: 'backend failed' } }, clock, 0],
        ],
      );
    });

    it('keeps one event when the same key is enqueued twice, even in one group commit', async () => {
      const [a, b] = await Promise.all([outbox.enqueue(event(1)), outbox.enqueue(event(1))]);
      const c = await outbox.enqueue(releaseEvent('urn:uuid:job-1', 'too late'));
      assert.deepEqual([a.duplicate, b.duplicate, c.duplicate], [false, true, true]);
      assert.equal(b.id, a.id);
      assert.equal(c.id, a.id);
      assert.equal(outbox.depth(), 1);
      assert.equal(outbox.nextBatch(10)[0]?.kind, 'job.commit');
    });

    it('commits many concurrent enqueues together and tells listeners once they are durable', async () => {
      let told = 0;
      outbox.onEnqueue(() => told++);
      const results = await Promise.all(Array.from({ length: 500 }, (_, i) => outbox.enqueue(event(i))));
      assert.equal(new Set(results.map((r) => r.id)).size, 500);
      assert.equal(outbox.depth(), 500);
      assert.equal(told, 1);
    });
  });

  describe('nextBatch() / ack()', () => {
    it('hands out due events oldest first, at most `max`, until they are acknowledged', async () => {
      for (let i = 0; i < 5; i++) {
        await outbox.enqueue(event(i));
        clock += 1000;
      }
      const first = outbox.nextBatch(3);
      assert.deepEqual(
        first.map((e) => e.key),
        ['job:urn:uuid:job-0', 'job:urn:uuid:job-1', 'job:urn:uuid:job-2'],
      );
      assert.deepEqual(outbox.nextBatch(3), first, 'not acknowledged: handed out again');
      outbox.ack(first.map((e) => e.id));
      assert.deepEqual(
        outbox.nextBatch(10).map((e) => e.key),
        ['job:urn:uuid:job-3', 'job:urn:uuid:job-4'],
      );
      assert.equal(outbox.depth(), 2);
      assert.equal(outbox.oldestEnqueuedAt(), 1_700_000_003_000);
    });

    it('holds back an event rescheduled by retryLater() until it is due, counting the attempt', async () => {
      const { id } = await outbox.enqueue(event(1));
      await outbox.enqueue(event(2));
      outbox.retryLater(id, 5000, 'UNAVAILABLE: primary busy');
      assert.deepEqual(
        outbox.nextBatch(10).map((e) => e.key),
        ['job:urn:uuid:job-2'],
      );
      assert.equal(outbox.nextDueAt(), clock);
      outbox.ack([outbox.nextBatch(10)[0]?.id ?? 0]);
      assert.equal(outbox.nextDueAt(), clock + 5000);
      clock += 5000;
      const [again] = outbox.nextBatch(10);
      assert.deepEqual([again?.id, again?.attempts], [id, 1]);
    });

    it('reports an empty outbox as depth 0 and no oldest event', () => {
      assert.equal(outbox.depth(), 0);
      assert.equal(outbox.oldestEnqueuedAt(), undefined);
      assert.deepEqual(outbox.nextBatch(10), []);
    });
  });

  describe('fail()', () => {
    it('moves the event to the dead letters with its reason, so it is never sent again', async () => {
      const { id } = await outbox.enqueue(event(7));
      clock += 60_000;
      outbox.fail(id, 'NOT_FOUND: print job not found: urn:uuid:job-7');
      assert.equal(outbox.depth(), 0);
      assert.equal(outbox.deadLetterCount(), 1);
      assert.deepEqual(outbox.deadLetters(), [
        {
          id: 1,
          kind: 'job.commit',
          key: 'job:urn:uuid:job-7',
          payload: { commit: { jobId: 'urn:uuid:job-7', printedPages: 7 } },
          enqueuedAt: 1_700_000_000_000,
          attempts: 1,
          failedAt: 1_700_000_060_000,
          reason: 'NOT_FOUND: print job not found: urn:uuid:job-7',
        },
      ]);
    });
  });

  describe('offline jobs', () => {
    const job = { jobId: 'urn:uuid:off-1', queue: 'lab', username: 'ann', pages: 3, copies: 1 };

    it('turns the commit of a job authorised offline into one offline record, in one transaction', async () => {
      await outbox.rememberOfflineJob(job.jobId, job, false);
      outbox.close();
      outbox = open();
      assert.deepEqual(outbox.offlineJob(job.jobId)?.job, job);
      const result = await outbox.settleOfflineJob<typeof job>(job.jobId, (rec) => offlineEvent(rec.job, 2, rec.free));
      assert.ok(result && result !== 'forgotten' && !result.duplicate);
      assert.equal(outbox.offlineJob(job.jobId), undefined);
      assert.equal(outbox.offlineJobCount(), 0);
      assert.deepEqual(
        outbox.nextBatch(10).map((e) => [e.kind, e.payload]),
        [['job.offline', { offline: { job, free: false, printedPages: 2 } }]],
      );
    });

    it('finds the latest offline job whose id starts with a prefix, and no other', async () => {
      for (const [id, at] of [
        ['urn:uuid:r#offline-100', 100],
        ['urn:uuid:r#offline-200', 200],
        ['urn:uuid:r', 300],
        ['urn:uuid:r2#offline-400', 400],
      ] as const) {
        clock = at;
        await outbox.rememberOfflineJob(id, { jobId: id }, false);
      }
      assert.equal(outbox.offlineJobIdWithPrefix('urn:uuid:r#offline-'), 'urn:uuid:r#offline-200');
      assert.equal(outbox.offlineJobIdWithPrefix('urn:uuid:x#offline-'), undefined);
      assert.equal(outbox.offlineJobIdWithPrefix(''), undefined);
    });

    it('forgets an offline job that is released, sending nothing', async () => {
      await outbox.rememberOfflineJob(job.jobId, job, true);
      assert.equal(await outbox.settleOfflineJob(job.jobId, () => undefined), 'forgotten');
      assert.equal(outbox.depth(), 0);
      assert.equal(await outbox.settleOfflineJob(job.jobId, () => undefined), undefined, 'unknown now');
    });
  });

  describe('committed jobs: committedJob()', () => {
    const commitOf = (uuid: string, attempt = ''): NewOutboxEvent => commitEvent(`${uuid}${attempt}`, 3);

    it('remembers the last commit of a job by its UUID across a close and a reopen, after the event was delivered', async () => {
      await outbox.enqueue(commitOf('urn:uuid:c-1'), { committedJob: 'urn:uuid:c-1' });
      await outbox.enqueue(commitOf('urn:uuid:c-2'));
      outbox.ack(outbox.nextBatch(10).map((e) => e.id));
      outbox.close();
      outbox = open();
      assert.deepEqual(outbox.committedJob('urn:uuid:c-1'), {
        kind: 'job.commit',
        key: 'job:urn:uuid:c-1',
        payload: { commit: { jobId: 'urn:uuid:c-1', printedPages: 3 } },
      });
      assert.equal(outbox.committedJob('urn:uuid:c-2'), undefined, 'enqueued without committedJob');
      assert.equal(outbox.committedJobCount(), 1);
    });

    it('remembers the offline record a settled offline job became, in the same write', async () => {
      const job = { jobId: 'urn:uuid:c-3', queue: 'lab', username: 'ann', pages: 3 };
      await outbox.rememberOfflineJob(job.jobId, job, true);
      await outbox.settleOfflineJob<typeof job>(job.jobId, (rec) => offlineEvent(rec.job, undefined, rec.free), { committedJob: job.jobId });
      assert.deepEqual(outbox.committedJob(job.jobId), { kind: 'job.offline', key: 'job:urn:uuid:c-3', payload: { offline: { job, free: true } } });
    });

    it('keeps the last rememberedCommits commits, forgetting the oldest first; a job committed again is the newest', async () => {
      outbox.close();
      outbox = open({ rememberedCommits: 3 });
      for (const n of [1, 2, 3]) await outbox.enqueue(commitOf(`urn:uuid:c-${n}`), { committedJob: `urn:uuid:c-${n}` });
      await outbox.enqueue(commitOf('urn:uuid:c-1', '#2'), { committedJob: 'urn:uuid:c-1' });
      await outbox.enqueue(commitOf('urn:uuid:c-4'), { committedJob: 'urn:uuid:c-4' });
      assert.deepEqual(
        [1, 2, 3, 4].map((n) => outbox.committedJob(`urn:uuid:c-${n}`)?.key),
        ['job:urn:uuid:c-1#2', undefined, 'job:urn:uuid:c-3', 'job:urn:uuid:c-4'],
      );
      assert.equal(outbox.committedJobCount(), 3);
    });

    it('does not remember a commit the disk refused (one transaction with the event)', async () => {
      outbox.close();
      outbox = open({ maxBytes: 64 * 1024 });
      let refused: string | undefined;
      for (let n = 0; n < 100 && refused === undefined; n++) {
        const uuid = `urn:uuid:big-${n}`;
        try {
          await outbox.enqueue({ kind: 'job.commit', key: `job:${uuid}`, payload: { blob: 'x'.repeat(3000) } }, { committedJob: uuid });
        } catch (err) {
          assert.ok(err instanceof OutboxWriteError);
          refused = uuid;
        }
      }
      assert.ok(refused !== undefined, 'the disk filled up');
      assert.equal(outbox.committedJob(refused), undefined);
      assert.equal(outbox.committedJobCount(), outbox.depth());
    });
  });

  describe('a disk that cannot take more', () => {
    it('refuses an event past its size cap with OutboxWriteError (disk_full) and keeps what it had', async () => {
      outbox.close();
      outbox = open({ maxBytes: 64 * 1024 });
      const big = (n: number): NewOutboxEvent => ({ kind: 'job.commit', key: `k${n}`, payload: { blob: 'x'.repeat(3000) } });
      let stored = 0;
      let error: unknown;
      for (let n = 0; n < 100 && !error; n++) {
        try {
          await outbox.enqueue(big(n));
          stored++;
        } catch (err) {
          error = err;
        }
      }
      assert.ok(error instanceof OutboxWriteError, `expected OutboxWriteError, got ${String(error)}`);
      assert.equal(error.code, 'DATABASE_UNAVAILABLE');
      assert.equal(error.reason, 'disk_full');
      assert.match(error.message, /disk .* is full/);
      assert.equal(outbox.depth(), stored);
      assert.ok(stored > 0);
      assert.equal(outbox.writeFailure?.reason, 'disk_full');
      await assert.rejects(outbox.ensureWritable(), (err: OutboxWriteError) => err.reason === 'disk_full');
      // Space comes back (events delivered): writing works again and the failure clears.
      outbox.ack(outbox.nextBatch(stored).map((e) => e.id));
      await outbox.ensureWritable();
      assert.equal(outbox.writeFailure, undefined);
      await outbox.enqueue(big(1000));
    });

    it('refuses new jobs while the file system has less free space than the minimum', async () => {
      outbox.close();
      outbox = open({ minFreeBytes: Number.MAX_SAFE_INTEGER });
      await assert.rejects(outbox.ensureWritable(), (err: OutboxWriteError) => err.reason === 'disk_full' && /bytes free/.test(err.message));
    });

    describe('on a real tmpfs (root on Linux)', function () {
      let mount: string | undefined;

      before(function () {
        mount = mountTinyTmpfs(256);
        if (!mount) {
          console.log('      (skipped: mounting a tmpfs needs root on Linux; the size-cap test above covers SQLITE_FULL)');
          this.skip();
        }
      });

      after(() => {
        if (mount) unmount(mount);
      });

      it('gives OutboxWriteError (disk_full) when the disk is really full, and the events already stored survive', async () => {
        const m = mount as string;
        const box = Outbox.open({ dataDir: m, logger: silentLogger, minFreeBytes: 0 });
        let stored = 0;
        let error: unknown;
        try {
          for (let n = 0; n < 1000 && !error; n++) {
            try {
              await box.enqueue({ kind: 'job.commit', key: `k${n}`, payload: { blob: 'y'.repeat(4000) } });
              stored++;
            } catch (err) {
              error = err;
            }
          }
          assert.ok(error instanceof OutboxWriteError, `expected OutboxWriteError, got ${String(error)}`);
          assert.equal(error.reason, 'disk_full');
          assert.ok(stored > 0);
        } finally {
          box.close();
        }
        // What was acknowledged before the disk filled is still there after a reopen.
        const reopened = Outbox.open({ dataDir: m, logger: silentLogger, minFreeBytes: 0 });
        try {
          assert.equal(reopened.depth(), stored);
        } finally {
          reopened.close();
        }
      });

      it('refuses to open on a read-only file system with OutboxWriteError (read_only)', () => {
        const m = mount as string;
        remountReadOnly(m);
        assert.throws(
          () => Outbox.open({ dataDir: m, logger: silentLogger }),
          (err: OutboxWriteError) => err instanceof OutboxWriteError && err.reason === 'read_only' && /read-only/.test(err.message),
        );
      });
    });

    it('refuses to open in a directory it may not write with OutboxWriteError (read_only)', function () {
      if (process.getuid?.() === 0) {
        // root writes anywhere; the read-only tmpfs test above covers this as root
        this.skip();
      }
      const ro = path.join(dir, 'ro');
      fs.mkdirSync(ro, { mode: 0o555 });
      assert.throws(
        () => Outbox.open({ dataDir: ro, logger: silentLogger }),
        (err: OutboxWriteError) => err instanceof OutboxWriteError && err.reason === 'read_only',
      );
    });
  });

  describe('close()', () => {
    it('commits writes still pending, and later writes fail with a typed error', async () => {
      const pending = outbox.enqueue(event(1));
      outbox.close();
      await pending;
      await assert.rejects(outbox.enqueue(event(2)), (err: OutboxWriteError) => err.reason === 'closed');
      outbox = open();
      assert.equal(outbox.depth(), 1);
    });
  });
});
