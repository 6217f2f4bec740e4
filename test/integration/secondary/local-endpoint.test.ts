import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { LocalEndpointClient } from '../../../secondary/local-endpoint/client';
import type { LocalAnswer, ParsedLocalRequest } from '../../../secondary/local-endpoint/protocol';
import { LocalEndpointServer, type LocalHandler } from '../../../secondary/local-endpoint/server';
import { OutboxWriteError } from '../../../secondary/outbox/outbox-errors';
import { removeDir, silentLogger, tempDir } from '../../unit/secondary/helpers';

/** Answers from a script; records what it was asked. */
class ScriptedHandler implements LocalHandler {
  readonly seen: ParsedLocalRequest[] = [];
  gate: Promise<void> | undefined;
  onEnter: (() => void) | undefined;

  async handle(request: ParsedLocalRequest): Promise<LocalAnswer> {
    this.seen.push(request);
    this.onEnter?.();
    if (this.gate) await this.gate;
    switch (request.op) {
      case 'authorize':
        if (request.job.username === 'explode') throw new Error('secret internals');
        if (request.job.username === 'full') throw new OutboxWriteError('disk_full', 'test');
        return { ok: true, decision: 'allow', reason: '', cost: request.job.pages * 10, charged: true, offline: false };
      case 'commit':
      case 'release':
      case 'set-pages':
        return { ok: true, duplicate: false, direct: false };
      case 'status':
        return { ok: false, error: { code: 'INTERNAL', message: 'not scripted' } };
      case 'blocked':
        return { ok: true, blocked: request.username === 'bob', reason: request.username === 'bob' ? 'no credit left' : '' };
    }
  }
}

const job = { jobId: 'urn:uuid:1', queue: 'lab', username: 'ann', pages: 3 };

/** Writes raw bytes on a fresh connection and collects `count` answer lines. */
function rawExchange(socketPath: string, payload: string | Buffer, count: number): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      text += d;
      const lines = text.split('\n').filter(Boolean);
      if (lines.length >= count) {
        socket.destroy();
        resolve(lines.map((l) => JSON.parse(l) as unknown));
      }
    });
    socket.on('error', reject);
    socket.write(payload);
  });
}

describe('local endpoint', () => {
  let dir: string;
  let socketPath: string;
  let handler: ScriptedHandler;
  let server: LocalEndpointServer | undefined;
  let client: LocalEndpointClient | undefined;

  beforeEach(async () => {
    dir = tempDir();
    socketPath = path.join(dir, 'quotient.sock');
    handler = new ScriptedHandler();
    server = await LocalEndpointServer.listen(socketPath, handler, silentLogger, { maxLineBytes: 1024 });
    client = await LocalEndpointClient.connect(socketPath, { timeoutMs: 5000 });
  });

  afterEach(async () => {
    client?.close();
    await server?.close();
    removeDir(dir);
  });

  it('creates its socket with mode 0660', () => {
    const stat = fs.statSync(socketPath);
    assert.ok(stat.isSocket());
    assert.equal(stat.mode & 0o777, 0o660);
  });

  it('answers each request on one line, with defaults applied and the id echoed', async () => {
    const answer = await client!.authorize(job);
    assert.deepEqual(answer, { ok: true, decision: 'allow', reason: '', cost: 30, charged: true, offline: false, id: 1 });
    assert.deepEqual(handler.seen[0], {
      id: 1,
      op: 'authorize',
      job: {
        ...job,
        documentName: '',
        colourPages: 0,
        copies: 1,
        duplex: false,
        paperSize: '',
        finishings: [],
        accountCode: '',
        clientHost: '',
        submittedAtMs: 0,
        pagesKnown: true,
      },
    });
    assert.deepEqual(await client!.blocked('bob'), { ok: true, blocked: true, reason: 'no credit left', id: 2 });
    assert.deepEqual(await client!.commit('urn:uuid:1', 4), { ok: true, duplicate: false, direct: false, id: 3 });
    assert.deepEqual(handler.seen[2], { id: 3, op: 'commit', jobId: 'urn:uuid:1', printedPages: 4 });
  });

  it('answers pipelined requests in order', async () => {
    const answers = await Promise.all([1, 2, 3, 4, 5].map((pages) => client!.authorize({ ...job, jobId: `j${pages}`, pages })));
    assert.deepEqual(
      answers.map((a) => (a.ok && 'cost' in a ? a.cost : -1)),
      [10, 20, 30, 40, 50],
    );
  });

  it('answers an oversized line with LINE_TOO_LONG and keeps serving the same connection', async () => {
    const huge = JSON.stringify({ op: 'authorize', job: { ...job, documentName: 'x'.repeat(5000) } });
    const answers = await rawExchange(socketPath, `${huge}\n{"op":"blocked","username":"ann","id":"after"}\n`, 2);
    assert.deepEqual(answers, [
      { ok: false, error: { code: 'LINE_TOO_LONG', message: 'request line too long' } },
      { ok: true, blocked: false, reason: '', id: 'after' },
    ]);
    assert.equal(handler.seen.length, 1, 'the oversized request never reached the handler');
  });

  it('answers bad JSON and invalid requests with an error naming the problem, and keeps serving', async () => {
    const answers = await rawExchange(
      socketPath,
      [
        '{not json',
        JSON.stringify({ op: 'authorize', id: 7, job: { ...job, pages: -1 } }),
        JSON.stringify({ op: 'launch-missiles', id: 8 }),
        JSON.stringify({ op: 'commit', id: 9, jobId: 'j', sneaky: true }),
        JSON.stringify({ op: 'authorize', id: 10, job: { ...job, pages: 2, colourPages: 3 } }),
        '',
        JSON.stringify({ op: 'blocked', id: 11, username: 'ann' }),
      ].join('\n') + '\n',
      6,
    );
    assert.deepEqual(answers[0], { ok: false, error: { code: 'BAD_JSON', message: 'the request is not valid JSON' } });
    const codes = answers.slice(1, 5).map((a) => [(a as { id: number }).id, (a as { error: { code: string } }).error.code]);
    assert.deepEqual(codes, [
      [7, 'VALIDATION'],
      [8, 'VALIDATION'],
      [9, 'VALIDATION'],
      [10, 'VALIDATION'],
    ]);
    assert.match((answers[1] as { error: { message: string } }).error.message, /job\.pages/);
    assert.match((answers[4] as { error: { message: string } }).error.message, /job\.colourPages: must not exceed pages/);
    assert.deepEqual(answers[5], { ok: true, blocked: false, reason: '', id: 11 });
    assert.deepEqual(
      handler.seen.map((r) => r.op),
      ['blocked'],
    );
  });

  it('answers a failing handler with INTERNAL without its internals, and a full outbox with DATABASE_UNAVAILABLE', async () => {
    assert.deepEqual(await client!.authorize({ ...job, username: 'explode' }), { ok: false, error: { code: 'INTERNAL', message: 'internal error' }, id: 1 });
    const full = await client!.authorize({ ...job, username: 'full' });
    assert.equal(full.ok, false);
    assert.equal(!full.ok && full.error.code, 'DATABASE_UNAVAILABLE');
    assert.deepEqual(await client!.blocked('ann'), { ok: true, blocked: false, reason: '', id: 3 });
  });

  it('serves many clients at once', async () => {
    const clients = await Promise.all(Array.from({ length: 20 }, () => LocalEndpointClient.connect(socketPath)));
    try {
      const answers = await Promise.all(clients.map((c, i) => c.authorize({ ...job, jobId: `j${i}`, pages: i + 1 })));
      assert.deepEqual(
        answers.map((a) => a.ok && 'cost' in a && a.cost),
        clients.map((_, i) => (i + 1) * 10),
      );
    } finally {
      for (const c of clients) c.close();
    }
  });

  describe('start', () => {
    it('replaces a stale socket left by a daemon that died', async () => {
      await server!.close();
      client!.close();
      client = undefined;
      // A daemon killed with SIGKILL leaves its socket file behind, with nobody listening.
      const child = spawn(process.execPath, ['-e', "require('net').createServer().listen(process.argv[1], () => console.log('up'))", socketPath], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await exited;
      assert.ok(fs.existsSync(socketPath));
      server = await LocalEndpointServer.listen(socketPath, handler, silentLogger);
      client = await LocalEndpointClient.connect(socketPath);
      assert.deepEqual(await client.blocked('bob'), { ok: true, blocked: true, reason: 'no credit left', id: 1 });
    });

    it('refuses to start while another daemon answers on the socket', async () => {
      await assert.rejects(LocalEndpointServer.listen(socketPath, handler, silentLogger), /already serving/);
      assert.deepEqual(await client!.blocked('bob'), { ok: true, blocked: true, reason: 'no credit left', id: 1 });
    });

    it('refuses to replace a file that is not a socket', async () => {
      const other = path.join(dir, 'important.txt');
      fs.writeFileSync(other, 'keep me');
      await assert.rejects(LocalEndpointServer.listen(other, handler, silentLogger), /not a socket/);
      assert.equal(fs.readFileSync(other, 'utf8'), 'keep me');
    });
  });

  describe('close()', () => {
    it('answers the request in progress, then ends connections and removes the socket', async () => {
      let open!: () => void;
      handler.gate = new Promise<void>((resolve) => (open = resolve));
      const entered = new Promise<void>((resolve) => (handler.onEnter = resolve));
      const pending = client!.authorize(job);
      await entered;
      const closing = server!.close();
      open();
      assert.deepEqual(await pending, { ok: true, decision: 'allow', reason: '', cost: 30, charged: true, offline: false, id: 1 });
      await closing;
      assert.equal(fs.existsSync(socketPath), false);
      await assert.rejects(LocalEndpointClient.connect(socketPath));
      server = undefined;
    });
  });
});
