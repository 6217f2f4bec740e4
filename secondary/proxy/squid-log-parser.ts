/**
 * Parses one Squid access-log line into a usage record, for the two formats a proxy secondary
 * reads (docs/proxy-secondary.md):
 *
 *  - Squid's native format (`logformat squid`):
 *      time elapsed client code/status bytes method URL user hierarchy/peer type
 *    It has no upload size, so bytes_out is 0 for native lines.
 *  - The recommended format, whose first field is the literal `Q1` so it is told apart per line:
 *      logformat quotient Q1 %ts.%03tu %>a %Ss/%03>Hs %<st %>st %rm %>rd %#un
 *
 * User names: Squid writes `%un` in the native format, and `%#un` in ours, URL-encoded
 * (Format::QuoteUrlEncodeUsername, RFC 1738: space, `%`, control and non-ASCII bytes become
 * %XX), so a name never contains a space in the log; we percent-decode it as UTF-8. A name that
 * does not decode to valid UTF-8 is a bad line, never a guess at another user. The decoded name
 * is then put in the primary's form and held to the primary's rules (chargeableUsername below):
 * a name the primary would refuse would make it refuse the whole report, leaving everyone in
 * that interval uncharged, so such a line is bad here instead.
 *
 * A line is one of: a usage record; `anonymous` (user `-`: unauthenticated, e.g. the 407 that
 * asks for credentials, or requests an `http_access allow` let through without a login — not
 * charged, counted); `denied` (Squid refused it: TCP_DENIED, e.g. our 403 block page — not
 * charged, counted); or `bad` (unknown format, absurd size, broken escaping) with the reason.
 * Nothing here throws on input.
 */

/** Larger than any single response we believe: 1 TiB. Bigger figures are corruption, not usage. */
export const MAX_BYTES_PER_LINE = 2 ** 40;
/** The primary's limit, in UTF-16 code units after normalisation (primary/users/user-service.ts). */
export const MAX_USERNAME = 128;
/** The primary's NAME_PATTERN (primary/users/user-service.ts): no control, format or line/paragraph separator characters. */
const NAME_PATTERN = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+$/u;

export interface UsageRecord {
  kind: 'usage';
  /** Epoch milliseconds. */
  timeMs: number;
  /** Decoded and in the primary's form (trimmed, NFC, lower case): the user the primary charges. */
  username: string;
  /** Destination host, lower-case, without port. */
  domain: string;
  /** Bytes sent to the client (reply size, headers included). */
  bytesIn: number;
  /** Bytes the client sent (0 in the native format, which does not log it). */
  bytesOut: number;
  /** Served from Squid's cache (result code contains HIT, e.g. TCP_HIT, TCP_MEM_HIT, TCP_REFRESH_UNMODIFIED is not). */
  cacheHit: boolean;
}

export type ParsedLine = UsageRecord | { kind: 'anonymous' } | { kind: 'denied' } | { kind: 'bad'; reason: string };

const BAD_FIELDS: ParsedLine = { kind: 'bad', reason: 'unknown format' };

/** Splits on runs of spaces (the native format pads the elapsed time). */
function fields(line: string): string[] {
  const out: string[] = [];
  const n = line.length;
  let i = 0;
  while (i < n) {
    while (i < n && line.charCodeAt(i) === 32) i++;
    if (i >= n) break;
    let j = i;
    while (j < n && line.charCodeAt(j) !== 32) j++;
    out.push(line.slice(i, j));
    i = j;
  }
  return out;
}

function parseTime(text: string): number | undefined {
  // "1700000000.123": seconds with milliseconds.
  const t = Number(text);
  if (!Number.isFinite(t) || t <= 0 || t > 32503680000) return undefined;
  return Math.round(t * 1000);
}

function parseBytes(text: string): number | undefined {
  if (text === '-') return 0;
  if (!/^\d{1,16}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= MAX_BYTES_PER_LINE ? n : undefined;
}

/** Percent-decodes a user name Squid URL-encoded; undefined when the bytes are not UTF-8. */
export function decodeUsername(text: string): string | undefined {
  if (text.indexOf('%') === -1) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** What the primary makes of a user name (normaliseUsername in primary/users/user-service.ts). */
function normalise(name: string): string {
  return name.trim().normalize('NFC').toLowerCase();
}

function nameProblem(name: string): string | undefined {
  if (name.length === 0) return 'user name is empty';
  if (name.length > MAX_USERNAME) return `user name is longer than ${MAX_USERNAME} characters`;
  if (!NAME_PATTERN.test(name)) return 'user name contains control characters';
  return undefined;
}

/**
 * A decoded user name in the primary's form, or why the primary would refuse it: empty once
 * trimmed, longer than 128 characters once lower-cased ('İ' becomes two), or holding control
 * characters. The primary normalises what we send again, so that is checked too (the same in
 * practice: NFC and lower case are stable, but the primary's answer is what counts).
 */
export function chargeableUsername(decoded: string): { username: string } | { problem: string } {
  const username = normalise(decoded);
  const problem = nameProblem(username) ?? (normalise(username) === username ? undefined : nameProblem(normalise(username)));
  return problem === undefined ? { username } : { problem };
}

/** Squid's own escaping of a user name (RFC 1738 style), for tests and tools. */
export function encodeUsername(name: string): string {
  return encodeURIComponent(name).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The host of a logged URL: "http://Host:80/x" → "host", "host:443" (CONNECT) → "host", "[::1]:443" → "::1". */
export function domainOf(url: string): string {
  let start = url.indexOf('://');
  start = start === -1 ? 0 : start + 3;
  let end = url.length;
  for (let i = start; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) {
      end = i;
      break;
    }
  }
  let host = url.slice(start, end);
  const at = host.lastIndexOf('@');
  if (at !== -1) host = host.slice(at + 1);
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    return (close === -1 ? host.slice(1) : host.slice(1, close)).toLowerCase();
  }
  const colon = host.indexOf(':');
  if (colon !== -1) host = host.slice(0, colon);
  return host.toLowerCase();
}

function isCacheHit(code: string): boolean {
  const slash = code.indexOf('/');
  const tag = slash === -1 ? code : code.slice(0, slash);
  return tag.includes('HIT');
}

function record(timeText: string, code: string, inText: string, outText: string, domain: string, userText: string): ParsedLine {
  const timeMs = parseTime(timeText);
  if (timeMs === undefined) return { kind: 'bad', reason: 'bad time' };
  if (code.indexOf('/') === -1) return { kind: 'bad', reason: 'bad result code' };
  const bytesIn = parseBytes(inText);
  const bytesOut = parseBytes(outText);
  if (bytesIn === undefined || bytesOut === undefined) return { kind: 'bad', reason: 'absurd or malformed size' };
  // Squid refused the request (TCP_DENIED: 403 block page, 407 login prompt): nothing was browsed.
  if (code.startsWith('TCP_DENIED') || code.startsWith('NONE_NONE')) return { kind: 'denied' };
  if (userText === '-' || userText === '') return { kind: 'anonymous' };
  const decoded = decodeUsername(userText);
  if (decoded === undefined) return { kind: 'bad', reason: 'user name is not valid percent-encoded UTF-8' };
  const name = chargeableUsername(decoded);
  if ('problem' in name) return { kind: 'bad', reason: name.problem };
  if (domain.length === 0 || domain === '-') return { kind: 'bad', reason: 'no destination host' };
  return { kind: 'usage', timeMs, username: name.username, domain: domain.toLowerCase(), bytesIn, bytesOut, cacheHit: isCacheHit(code) };
}

/** Parses one line (without its newline) in either format. */
export function parseSquidLine(line: string): ParsedLine {
  const f = fields(line);
  if (f[0] === 'Q1') {
    // Q1 time client code/status bytes_in bytes_out method domain user
    if (f.length !== 9) return BAD_FIELDS;
    const domainField = f[7] as string;
    return record(f[1] as string, f[3] as string, f[4] as string, f[5] as string, domainField.startsWith('[') ? domainOf(domainField) : domainField, f[8] as string);
  }
  // native: time elapsed client code/status bytes method URL user hierarchy type
  if (f.length !== 10) return BAD_FIELDS;
  return record(f[0] as string, f[3] as string, f[4] as string, '0', domainOf(f[6] as string), f[7] as string);
}
