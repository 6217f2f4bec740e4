/**
 * Receives Squid's live log feed (`access_log tcp://127.0.0.1:<port> quotient`): Squid connects
 * and writes one log line per line. Listens on loopback only by default. Lines arrive in memory:
 * those not yet reported when the secondary dies are lost (Squid does not replay them), so sites
 * that must not lose a byte log to a file instead and let the tailer read it (never both: each
 * request would be charged twice; secondary/config.ts refuses it; see docs/proxy-secondary.md). Lines longer than MAX_LINE are cut and counted as bad by the parser.
 */
import net from 'node:net';

const MAX_LINE = 64 * 1024;

export class TcpLogReceiver {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly onLine: (line: string) => void) {}

  /** Listens; resolves with the bound port (0 picks a free one). */
  listen(host: string, port: number): Promise<number> {
    const server = net.createServer((socket) => this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = undefined;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.setEncoding('utf8');
    let buffer = '';
    socket.on('data', (text: string) => {
      buffer += text;
      let start = 0;
      for (let nl = buffer.indexOf('\n'); nl !== -1; nl = buffer.indexOf('\n', start)) {
        const line = buffer.slice(start, nl);
        if (line.length > 0) this.onLine(line);
        start = nl + 1;
      }
      buffer = buffer.slice(start);
      if (buffer.length > MAX_LINE) {
        this.onLine(buffer.slice(0, 200));
        buffer = '';
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
  }
}
