/**
 * Squid external ACL helper (SPEC §6): answers "may this user browse?" from the secondary's local
 * set of blocked users, over one persistent connection to the local socket.
 *
 *   external_acl_type quotient ttl=0 negative_ttl=0 concurrency=50 children-max=1 %LOGIN /usr/local/bin/quotient-acl-helper
 *
 * Protocol (Squid's concurrent channel-ID form): each input line is `<channel-id> <user>`, each
 * answer `<channel-id> OK` or `<channel-id> ERR message="..."`, in any order. Without
 * concurrency a line is just `<user>` and answers carry no channel id. Squid URL-escapes the
 * fields it sends (a space is %20), so the user is percent-decoded, then compared as the
 * primary stores names (trimmed, NFC, lower case).
 *
 * When the secondary cannot be asked (not running, restarting), the answer follows
 * `--when-down` (default `allow`: usage is still logged and charged when it comes back).
 */
import { LocalEndpointClient } from '../local-endpoint/client';

export type Lookup = (username: string) => Promise<{ blocked: boolean; reason: string }>;

/** The answer line for one request line; never throws. */
export async function answerLine(line: string, lookup: Lookup, whenDown: 'allow' | 'deny'): Promise<string> {
  const parts = line.trim().split(/\s+/);
  let channel = '';
  if (parts.length >= 2 && /^\d+$/.test(parts[0] ?? '')) channel = `${parts.shift() as string} `;
  const raw = parts[0] ?? '';
  let username: string;
  try {
    username = decodeURIComponent(raw).trim().normalize('NFC').toLowerCase();
  } catch {
    return `${channel}ERR message="${escapeMessage('unreadable user name')}"`;
  }
  if (username === '' || username === '-') return `${channel}ERR message="${escapeMessage('not signed in')}"`;
  try {
    const answer = await lookup(username);
    if (!answer.blocked) return `${channel}OK`;
    return `${channel}ERR message="${escapeMessage(answer.reason || 'Internet access is blocked for your account')}"`;
  } catch {
    return whenDown === 'allow' ? `${channel}OK` : `${channel}ERR message="${escapeMessage('the accounting service is unavailable')}"`;
  }
}

/** Squid reads message="..." with backslash escapes; keep it one printable line. */
export function escapeMessage(text: string): string {
  return text
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .slice(0, 400);
}

/** A lookup over one local-socket connection, reconnected on the next request after a failure. */
export function socketLookup(socketPath: string, timeoutMs: number): Lookup {
  let client: Promise<LocalEndpointClient> | undefined;
  return async (username) => {
    client ??= LocalEndpointClient.connect(socketPath, { timeoutMs });
    try {
      const answer = await (await client).blocked(username);
      if (!answer.ok) throw new Error(answer.error.message);
      return { blocked: answer.blocked, reason: answer.reason };
    } catch (err) {
      const broken = client;
      client = undefined;
      broken?.then((c) => c.close()).catch(() => undefined);
      throw err;
    }
  };
}

function main(): void {
  const args = process.argv.slice(2);
  const opt = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i === -1 ? undefined : args[i + 1];
  };
  const socketPath = opt('--socket') ?? process.env.QUOTIENT_SOCKET ?? '/var/lib/quotient/quotient.sock';
  const whenDown = opt('--when-down') === 'deny' ? 'deny' : 'allow';
  const lookup = socketLookup(socketPath, Number(opt('--timeout-ms') ?? 2000));
  process.stdin.setEncoding('utf8');
  let buffer = '';
  const pending = new Set<Promise<void>>();
  process.stdin.on('data', (text: string) => {
    buffer += text;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) !== -1) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.trim() === '') continue;
      const p: Promise<void> = answerLine(line, lookup, whenDown).then((answer) => {
        process.stdout.write(`${answer}\n`);
        pending.delete(p);
      });
      pending.add(p);
    }
  });
  // Squid closes stdin to stop its helpers.
  process.stdin.on('end', () => {
    void Promise.all(pending).then(() => process.exit(0));
  });
}

if (require.main === module) main();
