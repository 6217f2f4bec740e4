/**
 * Squid external ACL helper: answers "may this user browse?" from the secondary's local set of
 * blocked users (users whose internet access the primary has blocked), over one persistent
 * connection to the local socket.
 *
 *   external_acl_type quotient ttl=0 negative_ttl=0 concurrency=50 children-max=1 %#LOGIN /usr/local/bin/quotient-acl-helper
 *
 * Protocol (Squid's concurrent channel-ID form): each input line is `<channel-id> <user> -`, each
 * answer `<channel-id> OK` or `<channel-id> ERR message="..."`, in any order. Without
 * concurrency a line has no channel id. Squid 4 and later end every line with the acl line's
 * arguments (%DATA), "-" when there are none, as in ours.
 *
 * The user name: `%#LOGIN`, not `%LOGIN`. Squid's documentation says helper values are URL-escaped,
 * but since Squid 4 a format code without a quoting modifier is sent raw (Format::Token::parse
 * replaces the external_acl_type quote= default with "none"), so `José Müller` arrived as two
 * fields and `a%41b` as something that decodes to another user (Squid 5.7 observed in
 * test/e2e/squid). `%#` asks for rfc1738_escape (lib/rfc1738.c, RFC1738_ESCAPE_UNSAFE): space, %,
 * the "unsafe" characters " # < > [ \ ] ^ ` { | } ~ ', control and non-ASCII bytes become %XX
 * (upper-case hex); + @ / : and the rest are sent as they are (+ is not a space here). So the
 * name is one field that decodeURIComponent reverses exactly (bytes, then strict UTF-8), and it is
 * then put in the primary's form by the function the access-log parser uses (trimmed, NFC, lower
 * case; Squid itself lower-cases ASCII letters of basic-auth names), so the helper and the charges
 * name the same user. A line with more fields than that (a squid.conf
 * still using `%LOGIN`) is answered ERR and reported on stderr (Squid's cache.log), never guessed.
 *
 * When the secondary cannot be asked (not running, restarting), the answer follows
 * `--when-down` (default `allow`: usage is still logged and charged when it comes back).
 * The options are parsed strictly: a mistyped option or value stops the helper with a message
 * on stderr (Squid's cache.log) and exit status 2, rather than quietly allowing everyone.
 */
import { parseArgs } from 'node:util';
import { LocalEndpointClient } from '../local-endpoint/client';
import { chargeableUsername, decodeUsername } from './squid-log-parser';

export type Lookup = (username: string) => Promise<{ blocked: boolean; reason: string }>;

/** One request line taken apart: the channel id (with its trailing space, or '') and the escaped user field. */
export interface Request {
  channel: string;
  /** The user field as Squid sent it, or undefined when the line does not have the expected shape. */
  field: string | undefined;
}

/** Splits `[channel-id] user [-]`; see the header for the shape and why it is strict. */
export function parseRequest(line: string): Request {
  const fields = line.trim().split(/ +/);
  const numeric = /^\d+$/.test(fields[0] ?? '');
  // Squid >= 4 appends %DATA: "-" for an acl line without arguments (ours).
  if (fields.length >= 2 && fields[fields.length - 1] === '-') fields.pop();
  if (fields.length === 1) return { channel: '', field: fields[0] };
  if (fields.length === 2 && numeric) return { channel: `${fields[0] as string} `, field: fields[1] };
  return { channel: numeric ? `${fields[0] as string} ` : '', field: undefined };
}

export const FORMAT_PROBLEM = 'Quotient cannot read this request: the external_acl_type format must be %#LOGIN alone (docs/proxy-secondary.md)';

/** The answer line for one request line; never throws. `onProblem` hears about lines of the wrong shape. */
export async function answerLine(line: string, lookup: Lookup, whenDown: 'allow' | 'deny', onProblem?: (problem: string) => void): Promise<string> {
  const { channel, field } = parseRequest(line);
  if (field === undefined) {
    onProblem?.(`${FORMAT_PROBLEM}; got ${JSON.stringify(line.slice(0, 200))}`);
    return `${channel}ERR message="${escapeMessage(FORMAT_PROBLEM)}"`;
  }
  // Squid writes "-" for a value it does not have.
  if (field === '' || field === '-') return `${channel}ERR message="${escapeMessage('not signed in')}"`;
  const decoded = decodeUsername(field);
  if (decoded === undefined) return `${channel}ERR message="${escapeMessage('unreadable user name')}"`;
  const name = chargeableUsername(decoded);
  if ('problem' in name) return `${channel}ERR message="${escapeMessage(`user name not accepted: ${name.problem}`)}"`;
  try {
    const answer = await lookup(name.username);
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

export const USAGE = 'usage: quotient-acl-helper [--socket PATH] [--when-down allow|deny] [--timeout-ms N]';

export interface HelperOptions {
  socketPath: string;
  whenDown: 'allow' | 'deny';
  timeoutMs: number;
}

/** A command line the helper refuses to start with; the message says what is wrong. */
export class HelperUsageError extends Error {}

/**
 * The helper's options: --socket (default $QUOTIENT_SOCKET, then /var/lib/quotient/quotient.sock),
 * --when-down allow|deny (default allow) and --timeout-ms (default 2000). Unknown options, missing
 * values and values out of their set are a HelperUsageError.
 */
export function parseHelperOptions(argv: readonly string[], env: NodeJS.ProcessEnv = {}): HelperOptions {
  let values: { socket?: string; 'when-down'?: string; 'timeout-ms'?: string };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { socket: { type: 'string' }, 'when-down': { type: 'string' }, 'timeout-ms': { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new HelperUsageError((err as Error).message);
  }
  const whenDown = values['when-down'] ?? 'allow';
  if (whenDown !== 'allow' && whenDown !== 'deny') throw new HelperUsageError(`--when-down must be allow or deny, got ${JSON.stringify(whenDown)}`);
  const timeout = values['timeout-ms'] ?? '2000';
  if (!/^\d{1,6}$/.test(timeout) || Number(timeout) < 1)
    throw new HelperUsageError(`--timeout-ms must be a whole number of milliseconds from 1 to 999999, got ${JSON.stringify(timeout)}`);
  const socketPath = values.socket ?? env.QUOTIENT_SOCKET ?? '/var/lib/quotient/quotient.sock';
  if (socketPath === '') throw new HelperUsageError('--socket must name a path');
  return { socketPath, whenDown, timeoutMs: Number(timeout) };
}

function main(): void {
  let options: HelperOptions;
  try {
    options = parseHelperOptions(process.argv.slice(2), process.env);
  } catch (err) {
    if (!(err instanceof HelperUsageError)) throw err;
    process.stderr.write(`quotient-acl-helper: ${err.message}\n${USAGE}\n`);
    process.exit(2);
  }
  const { whenDown } = options;
  const lookup = socketLookup(options.socketPath, options.timeoutMs);
  process.stdin.setEncoding('utf8');
  let buffer = '';
  const pending = new Set<Promise<void>>();
  let warned = false;
  const onProblem = (problem: string): void => {
    if (warned) return;
    warned = true;
    process.stderr.write(`quotient-acl-helper: ${problem}\n`);
  };
  process.stdin.on('data', (text: string) => {
    buffer += text;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) !== -1) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.trim() === '') continue;
      const p: Promise<void> = answerLine(line, lookup, whenDown, onProblem).then((answer) => {
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
