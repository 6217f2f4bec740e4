/**
 * A small typed client for the local endpoint, for the CUPS backend wrapper (and later the Squid
 * helper): one connection, requests answered in order, each with a timeout. Error answers from
 * the daemon come back as values (ok: false); a broken connection or a timeout rejects.
 */
import net from 'node:net';
import type { AnswerOf, ErrorAnswer, LocalRequest } from './protocol';

type Op = keyof AnswerOf;
type RequestOf<O extends Op> = Omit<Extract<LocalRequest, { op: O }>, 'op' | 'id'>;

interface Waiting {
  resolve: (answer: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class LocalEndpointClient {
  private buffer = '';
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private failure: Error | undefined;

  private constructor(
    private readonly socket: net.Socket,
    private readonly timeoutMs: number,
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => this.onData(text));
    socket.on('error', (err) => this.failAll(err));
    socket.on('close', () => this.failAll(new Error('the secondary closed the connection')));
  }

  /** Connects to the daemon's socket; rejects when no daemon is listening. */
  static connect(socketPath: string, opts: { timeoutMs?: number } = {}): Promise<LocalEndpointClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(socketPath);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new LocalEndpointClient(socket, opts.timeoutMs ?? 30_000));
      });
      socket.once('error', reject);
    });
  }

  authorize(job: RequestOf<'authorize'>['job']): Promise<AnswerOf['authorize'] | ErrorAnswer> {
    return this.request('authorize', { job });
  }

  commit(jobId: string, printedPages?: number): Promise<AnswerOf['commit'] | ErrorAnswer> {
    return this.request('commit', printedPages === undefined ? { jobId } : { jobId, printedPages });
  }

  release(jobId: string, reason = ''): Promise<AnswerOf['release'] | ErrorAnswer> {
    return this.request('release', { jobId, reason });
  }

  status(): Promise<AnswerOf['status'] | ErrorAnswer> {
    return this.request('status', {});
  }

  blocked(username: string): Promise<AnswerOf['blocked'] | ErrorAnswer> {
    return this.request('blocked', { username });
  }

  /** An administrator's page count for a job held because its pages could not be counted. */
  setPages(jobId: string, pages: number): Promise<AnswerOf['set-pages'] | ErrorAnswer> {
    return this.request('set-pages', { jobId, pages });
  }

  /** Sends one request and resolves with its answer. */
  request<O extends Op>(op: O, body: RequestOf<O>): Promise<AnswerOf[O] | ErrorAnswer> {
    return this.send({ ...body, op, id: this.nextId++ }) as Promise<AnswerOf[O] | ErrorAnswer>;
  }

  /** Sends a raw line as is (tests of the framing); resolves with the next answer. */
  sendRaw(line: string): Promise<unknown> {
    return this.expect(-this.nextId++, () => this.socket.write(line));
  }

  close(): void {
    this.socket.end();
  }

  private send(message: { id: number } & Record<string, unknown>): Promise<unknown> {
    return this.expect(message.id, () => this.socket.write(`${JSON.stringify(message)}\n`));
  }

  /** Answers come in request order; a raw line (negative key) is matched by that order alone. */
  private expect(id: number, write: () => void): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`the secondary did not answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
      write();
    });
  }

  private onData(text: string): void {
    this.buffer += text;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) !== -1) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      let answer: { id?: unknown };
      try {
        answer = JSON.parse(line) as { id?: unknown };
      } catch {
        this.failAll(new Error('the secondary sent an unreadable answer'));
        return;
      }
      const id = typeof answer.id === 'number' && this.waiting.has(answer.id) ? answer.id : this.oldestWaiting();
      const waiter = id === undefined ? undefined : this.waiting.get(id);
      if (id === undefined || !waiter) continue;
      this.waiting.delete(id);
      clearTimeout(waiter.timer);
      waiter.resolve(answer);
    }
  }

  private oldestWaiting(): number | undefined {
    for (const id of this.waiting.keys()) return id;
    return undefined;
  }

  private failAll(err: Error): void {
    this.failure ??= err;
    for (const [id, w] of this.waiting) {
      clearTimeout(w.timer);
      this.waiting.delete(id);
      w.reject(err);
    }
  }
}

/** Connects, runs `work`, and always closes: the shape a backend invocation needs. */
export async function withLocalEndpoint<T>(
  socketPath: string,
  work: (client: LocalEndpointClient) => Promise<T>,
  opts: { timeoutMs?: number } = {},
): Promise<T> {
  const client = await LocalEndpointClient.connect(socketPath, opts);
  try {
    return await work(client);
  } finally {
    client.close();
  }
}
