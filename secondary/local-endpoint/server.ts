/**
 * The local endpoint: a Unix socket (mode 0660) on which the CUPS backend wrapper, and later the
 * Squid helper, ask the secondary for decisions. Newline-delimited JSON (protocol.ts): each line
 * is parsed and validated here, handed to the handler, and answered on one line, in order. Bad
 * input gets an error answer and the connection keeps being served.
 */
import fs from 'node:fs';
import net from 'node:net';
import { isQuotientError } from '../../common/errors';
import type { Logger } from '../../common/logger';
import { LineSplitter } from './line-splitter';
import { MAX_LINE_BYTES, localRequestSchema, type ErrorAnswer, type ErrorCodeOnSocket, type LocalAnswer, type ParsedLocalRequest } from './protocol';

export interface LocalHandler {
  handle(request: ParsedLocalRequest): Promise<LocalAnswer>;
}

export interface LocalEndpointOptions {
  maxLineBytes?: number;
  /** File mode of the socket (default 0660: the daemon's user and group). */
  mode?: number;
}

/** Requests read ahead of the one being answered before the connection stops reading. */
const MAX_QUEUED = 256;

export function errorAnswer(code: ErrorCodeOnSocket, message: string): ErrorAnswer {
  return { ok: false, error: { code, message } };
}

/**
 * Makes the socket path usable: removes a stale socket left by a daemon that died, refuses when a
 * live daemon still answers on it or when the path is something other than a socket.
 */
export async function clearStaleSocket(socketPath: string): Promise<void> {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(socketPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!stat.isSocket()) throw new Error(`${socketPath} exists and is not a socket; refusing to replace it`);
  const alive = await new Promise<boolean>((resolve) => {
    const probe = net.connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive) throw new Error(`another Quotient secondary is already serving ${socketPath}`);
  fs.unlinkSync(socketPath);
}

export class LocalEndpointServer {
  private readonly connections = new Set<Connection>();
  private closing: Promise<void> | undefined;

  private constructor(
    readonly socketPath: string,
    private readonly server: net.Server,
  ) {}

  static async listen(socketPath: string, handler: LocalHandler, logger: Logger, opts: LocalEndpointOptions = {}): Promise<LocalEndpointServer> {
    await clearStaleSocket(socketPath);
    const maxLineBytes = opts.maxLineBytes ?? MAX_LINE_BYTES;
    const mode = opts.mode ?? 0o660;
    const server = net.createServer();
    const endpoint = new LocalEndpointServer(socketPath, server);
    server.on('connection', (socket) => {
      if (endpoint.closing) {
        socket.destroy();
        return;
      }
      const conn = new Connection(socket, handler, logger, maxLineBytes, () => endpoint.connections.delete(conn));
      endpoint.connections.add(conn);
    });
    const listening = new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.once('listening', () => {
        server.off('error', reject);
        resolve();
      });
    });
    // A Unix socket is bound synchronously inside listen(); the umask around that call covers the
    // moment before chmod() when the socket would have the process's default permissions.
    const previousUmask = process.umask(0o777 & ~mode);
    try {
      server.listen(socketPath);
    } finally {
      process.umask(previousUmask);
    }
    await listening;
    fs.chmodSync(socketPath, mode);
    server.on('error', (err) => logger.error({ err }, 'local endpoint error'));
    logger.info({ socket: socketPath }, 'local endpoint listening');
    return endpoint;
  }

  /** Stops accepting, lets each connection finish the request it is answering, then closes. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      await Promise.all([...this.connections].map((c) => c.finish()));
      await closed;
      try {
        fs.unlinkSync(this.socketPath);
      } catch {
        // already removed by the server's close
      }
    })();
    return this.closing;
  }
}

/** One client connection: reads lines, answers them one at a time, in order. */
class Connection {
  private readonly splitter: LineSplitter;
  private readonly queue: (string | 'too-long')[] = [];
  private working = false;
  private finishing = false;
  private idle: (() => void) | undefined;

  constructor(
    private readonly socket: net.Socket,
    private readonly handler: LocalHandler,
    private readonly logger: Logger,
    maxLineBytes: number,
    private readonly onClose: () => void,
  ) {
    this.splitter = new LineSplitter(maxLineBytes);
    socket.on('data', (chunk: Buffer) => {
      if (this.finishing) return;
      for (const item of this.splitter.push(chunk)) this.queue.push('line' in item ? item.line : 'too-long');
      if (this.queue.length > MAX_QUEUED) socket.pause();
      void this.work();
    });
    socket.on('error', (err) => logger.debug({ err }, 'local endpoint client error'));
    socket.on('close', () => {
      this.queue.length = 0;
      this.idle?.();
      onClose();
    });
  }

  /** Answers the request in progress, then ends the connection. */
  finish(): Promise<void> {
    this.finishing = true;
    this.queue.length = 0;
    if (this.socket.destroyed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.socket.once('close', () => resolve());
      if (!this.working) this.socket.end();
      else this.idle = () => this.socket.end();
      // A client that does not read its answer cannot hold the shutdown.
      setTimeout(() => this.socket.destroy(), 2000).unref();
    });
  }

  private async work(): Promise<void> {
    if (this.working) return;
    this.working = true;
    try {
      while (this.queue.length > 0 && !this.socket.destroyed) {
        const item = this.queue.shift();
        if (item === undefined) break;
        if (this.queue.length < MAX_QUEUED / 4 && this.socket.isPaused()) this.socket.resume();
        if (item.trim() === '') continue;
        const answer = item === 'too-long' ? { ...errorAnswer('LINE_TOO_LONG', 'request line too long'), id: undefined } : await this.answer(item);
        if (!this.socket.writable) break;
        this.socket.write(`${JSON.stringify(answer)}\n`);
      }
    } finally {
      this.working = false;
      const idle = this.idle;
      this.idle = undefined;
      idle?.();
    }
  }

  private async answer(line: string): Promise<LocalAnswer & { id?: string | number | undefined }> {
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      return errorAnswer('BAD_JSON', 'the request is not valid JSON');
    }
    const rawId = (raw as { id?: unknown } | null)?.id;
    const id = typeof rawId === 'string' || typeof rawId === 'number' ? rawId : undefined;
    const parsed = localRequestSchema.safeParse(raw);
    if (!parsed.success) {
      const message = parsed.error.issues.map((i) => `${i.path.join('.') || '(request)'}: ${i.message}`).join('; ');
      return { ...errorAnswer('VALIDATION', message), id };
    }
    if (this.finishing) return { ...errorAnswer('SHUTTING_DOWN', 'the secondary is stopping'), id };
    try {
      return { ...(await this.handler.handle(parsed.data)), id };
    } catch (err) {
      if (isQuotientError(err) && err.code === 'DATABASE_UNAVAILABLE') return { ...errorAnswer('DATABASE_UNAVAILABLE', err.message), id };
      this.logger.error({ err, op: parsed.data.op }, 'local endpoint request failed');
      return { ...errorAnswer('INTERNAL', 'internal error'), id };
    }
  }
}
