import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../../common/logger';
import type { UsageReport } from '../../../protos/generated/quotient/v1/UsageReport';
import type { NewOutboxEvent, Outbox } from '../../../secondary/outbox/outbox';
import { fitReportId, MAX_REPORT_ID, TAIL_META_KEY, UsagePipeline } from '../../../secondary/proxy/usage-pipeline';

/** The part of the outbox the pipeline uses, in memory; `failNext` makes the next writes fail. */
class FakeOutbox {
  events: NewOutboxEvent[] = [];
  meta = new Map<string, string>();
  failNext = 0;
  enqueue(e: NewOutboxEvent): Promise<{ id: number; duplicate: boolean }> {
    if (this.failNext > 0) {
      this.failNext--;
      return Promise.reject(new Error('disk full'));
    }
    this.events.push(e);
    return Promise.resolve({ id: this.events.length, duplicate: false });
  }
  putMeta(key: string, value: string): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      return Promise.reject(new Error('disk full'));
    }
    this.meta.set(key, value);
    return Promise.resolve();
  }
  getMeta(key: string): string | undefined {
    return this.meta.get(key);
  }
}

const logger = createLogger('test', 'silent');
const line = (user: string, bytes: number): string => `Q1 1800000000.000 10.0.0.1 TCP_MISS/200 ${bytes} 0 GET a.test ${user}\n`;
const totalBytes = (outbox: FakeOutbox): number =>
  outbox.events.flatMap((e) => (e.payload as UsageReport).lines ?? []).reduce((sum, l) => sum + Number(l.bytesIn), 0);

const savedInode = (outbox: FakeOutbox): string => (JSON.parse(outbox.meta.get(TAIL_META_KEY) ?? '{}') as { inode: string }).inode;

describe('UsagePipeline', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quotient-pipeline-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('enqueues the usage with the position after it, and reads the lines again when the outbox could not write', async () => {
    const log = path.join(dir, 'access.log');
    fs.writeFileSync(log, line('ann', 100) + line('ann', 20));
    const outbox = new FakeOutbox();
    const p = new UsagePipeline({ name: 'px', outbox: outbox as unknown as Outbox, logger, accessLog: log, intervalMs: () => 3_600_000 });
    await p.start();
    outbox.failNext = 2;
    await assert.rejects(p.flushNow(), /disk full/);
    assert.equal(outbox.events.length, 0);
    fs.appendFileSync(log, line('ann', 3));
    await p.flushNow();
    assert.equal(totalBytes(outbox), 123);
    assert.deepEqual(
      outbox.events.map((e) => e.key),
      [`px:f:${savedInode(outbox)}:0:0-${fs.statSync(log).size}`],
    );
    await p.flushNow();
    assert.equal(outbox.events.length, 1, 'nothing new, no new report');
    await p.stop();
  });

  it('gives the same byte range of a truncated and rewritten log a report id of its own', async () => {
    const log = path.join(dir, 'access.log');
    fs.writeFileSync(log, line('ann', 100));
    const outbox = new FakeOutbox();
    const p = new UsagePipeline({ name: 'px', outbox: outbox as unknown as Outbox, logger, accessLog: log, intervalMs: () => 3_600_000 });
    await p.start();
    await p.flushNow();
    const size = fs.statSync(log).size;
    fs.writeFileSync(log, line('ann', 200)); // copytruncate, then a line of the same length
    assert.equal(fs.statSync(log).size, size);
    await p.flushNow();
    const inode = savedInode(outbox);
    assert.deepEqual(
      outbox.events.map((e) => e.key),
      [`px:f:${inode}:0:0-${size}`, `px:f:${inode}:1:0-${size}`],
    );
    assert.equal(totalBytes(outbox), 300);
    await p.stop();
  });

  it('splits the sums of one read into reports of at most 10,000 lines, with ids of their own', async () => {
    const log = path.join(dir, 'access.log');
    fs.writeFileSync(log, Array.from({ length: 10_001 }, (_, i) => line(`user${i}`, 1)).join(''));
    const outbox = new FakeOutbox();
    const p = new UsagePipeline({ name: 'px', outbox: outbox as unknown as Outbox, logger, accessLog: log, intervalMs: () => 3_600_000 });
    await p.start();
    await p.flushNow();
    const id = `px:f:${savedInode(outbox)}:0:0-${fs.statSync(log).size}`;
    assert.deepEqual(
      outbox.events.map((e) => [e.key, (e.payload as UsageReport).lines?.length]),
      [
        [id, 10_000],
        [`${id}:1`, 1],
      ],
    );
    assert.equal(totalBytes(outbox), 10_001);
    await p.stop();
  });

  it("keeps report ids within the primary's 191 characters, one id per range", () => {
    const name = 'n'.repeat(128);
    const short = `${name}:t:1800000000000:0`;
    assert.equal(fitReportId(short), short);
    const long = `${name}:f:2049:18446744073709551615:7:1099511627776-1099511627999`;
    const a = fitReportId(long);
    assert.ok(a.length <= MAX_REPORT_ID, `${a.length} characters`);
    assert.equal(fitReportId(long), a);
    assert.notEqual(fitReportId(long.replace(':7:', ':8:')), a);
  });

  it('sums lines from the tcp:// feed into a report of their own', async () => {
    const outbox = new FakeOutbox();
    const p = new UsagePipeline({ name: 'px', outbox: outbox as unknown as Outbox, logger, tcpListen: '127.0.0.1:0', intervalMs: () => 3_600_000 });
    await p.start();
    const socket = net.connect(p.tcpPort ?? 0, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(line('bob', 7) + 'garbage\n' + line('bob', 8).slice(0, 10));
    socket.end(line('bob', 8).slice(10));
    const deadline = Date.now() + 5000;
    while (p.counts.tcp.lines < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await p.flushNow();
    assert.equal(totalBytes(outbox), 15);
    assert.deepEqual(p.counts.tcp, { lines: 3, usage: 2, anonymous: 0, denied: 0, bad: 1 });
    assert.match(outbox.events[0]?.key ?? '', /^px:t:\d+:0$/);
    await p.stop();
  });
});
