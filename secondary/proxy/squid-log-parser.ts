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
 * User names are escaped differently in the two formats, and each is read back exactly:
 *  - ours (`%#un`) is URL-encoded (RFC 1738: space, `%`, control and non-ASCII bytes become
 *    %XX), so it never holds a space; we percent-decode it as UTF-8.
 *  - the native format writes the name with Squid's MIME-blob quoting (Format::QuoteMimeBlob in
 *    Squid's source, which the native log uses for every user name): `%`, `[`, `]`, control and non-ASCII bytes become %XX, CR
 *    and LF become `\r` and `\n`, a backslash is doubled (`DOM\\jsmith`), and a space is left
 *    as it is. So a native name may span several fields: it is everything between the URL and
 *    the last two fields (hierarchy/peer and content type, which hold no space).
 * A name that does not decode to valid UTF-8 is a bad line, never a guess at another user. The
 * decoded name is then put in the primary's form and held to the primary's rules (chargeableUsername below):
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

/*
 * The hot path (target: 300,000 lines/s parsed and summed; bench/README.md). A line is scanned once for its
 * field boundaries, kept in two reused arrays, and only the fields used are read, from the line
 * itself: numbers digit by digit, no substring per field, no regular expression per line.
 */
const MAX_FIELDS = 11;
const starts = new Int32Array(MAX_FIELDS);
const ends = new Int32Array(MAX_FIELDS);

/** Finds the fields, split on runs of spaces (the native format pads the elapsed time); MAX_FIELDS means "that many or more". */
function scanFields(line: string): number {
  const n = line.length;
  let count = 0;
  let i = 0;
  while (i < n) {
    while (i < n && line.charCodeAt(i) === 32) i++;
    if (i >= n) break;
    if (count === MAX_FIELDS) return MAX_FIELDS;
    starts[count] = i;
    while (i < n && line.charCodeAt(i) !== 32) i++;
    ends[count++] = i;
  }
  return count;
}

/** "1700000000.123" (seconds, milliseconds) as epoch milliseconds; more decimals are rounded. */
function parseTime(line: string, from: number, to: number): number | undefined {
  let seconds = 0;
  let i = from;
  for (; i < to; i++) {
    const c = line.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    seconds = seconds * 10 + c;
  }
  if (i === from || i - from > 11) return undefined;
  let ms = 0;
  if (i < to) {
    if (line.charCodeAt(i) !== 46 /* . */ || i + 1 === to) return undefined;
    let scale = 100;
    for (i++; i < to; i++) {
      const c = line.charCodeAt(i) - 48;
      if (c < 0 || c > 9) return undefined;
      if (scale >= 1) ms += c * scale;
      else if (scale > 0.05 && c >= 5) ms += 1; // the fourth decimal rounds
      scale /= 10;
    }
  }
  if (seconds <= 0 && ms === 0) return undefined;
  if (seconds > 32503680000) return undefined;
  return seconds * 1000 + ms;
}

/** A byte count: '-' is 0; more than 16 digits or over MAX_BYTES_PER_LINE is not believed. */
function parseBytes(line: string, from: number, to: number): number | undefined {
  if (to - from === 1 && line.charCodeAt(from) === 45 /* - */) return 0;
  if (to === from || to - from > 16) return undefined;
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = line.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return undefined;
    n = n * 10 + c;
  }
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

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Undoes Squid's MIME-blob quoting of a native-format user name (see the header): `\\` is a
 * backslash, `\r` and `\n` are CR and LF, `%XX` is a byte; the bytes must be UTF-8. Undefined
 * when the text could not have come from that quoting or the bytes are not UTF-8.
 */
export function decodeNativeUsername(text: string): string | undefined {
  if (text.indexOf('%') === -1 && text.indexOf('\\') === -1) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 92 /* \\ */) {
      const next = text[++i];
      if (next === '\\') bytes.push(92);
      else if (next === 'r') bytes.push(13);
      else if (next === 'n') bytes.push(10);
      else return undefined;
    } else if (c === 37 /* % */) {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return undefined;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      return undefined; // Squid escapes every byte from 0x7F up
    }
  }
  try {
    return UTF8.decode(Uint8Array.from(bytes));
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

/** Squid's MIME-blob quoting of a user name, as the native format writes it, for tests and tools. */
export function encodeNativeUsername(name: string): string {
  let out = '';
  for (const byte of new TextEncoder().encode(name)) {
    if (byte === 13) out += '\\r';
    else if (byte === 10) out += '\\n';
    else if (byte <= 0x1f || byte >= 0x7f || byte === 37 || byte === 91 || byte === 93) out += `%${byte.toString(16).padStart(2, '0')}`;
    else if (byte === 92) out += '\\\\';
    else out += String.fromCharCode(byte);
  }
  return out;
}

/** The host of a logged URL: "http://Host:80/x" → "host", "host:443" (CONNECT) → "host", "[::1]:443" → "::1". */
export function domainOf(url: string): string {
  return hostIn(url, 0, url.length);
}

/** domainOf() of line[from, to), without taking the URL out first. */
function hostIn(line: string, from: number, to: number): string {
  let start = line.indexOf('://', from);
  start = start === -1 || start >= to ? from : start + 3;
  let end = to;
  let at = -1;
  for (let i = start; i < to; i++) {
    const c = line.charCodeAt(i);
    if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) {
      end = i;
      break;
    }
    if (c === 64 /* @ */) at = i;
  }
  if (at !== -1) start = at + 1;
  if (line.charCodeAt(start) === 91 /* [ */) {
    const close = line.indexOf(']', start);
    return line.slice(start + 1, close === -1 || close >= end ? end : close).toLowerCase();
  }
  const colon = line.indexOf(':', start);
  return line.slice(start, colon === -1 || colon >= end ? end : colon).toLowerCase();
}

/**
 * What a logged user field comes to, by field: users repeat all day, so decoding, normalising and
 * checking a name is done once per name, not once per line. Bounded: emptied when full.
 */
type NameResult = { username: string } | { problem: string };
const NAME_CACHE_MAX = 20_000;
/** One cache per format: the same logged text can name different users in the two. */
const urlNames = new Map<string, NameResult>();
const nativeNames = new Map<string, NameResult>();
const NOT_UTF8: NameResult = { problem: 'user name is not valid percent-encoded UTF-8' };
const NOT_NATIVE: NameResult = { problem: 'user name is not valid Squid-quoted UTF-8' };

function nameOf(field: string, native: boolean): NameResult {
  const cache = native ? nativeNames : urlNames;
  let result = cache.get(field);
  if (result === undefined) {
    const decoded = native ? decodeNativeUsername(field) : decodeUsername(field);
    result = decoded === undefined ? (native ? NOT_NATIVE : NOT_UTF8) : chargeableUsername(decoded);
    if (cache.size >= NAME_CACHE_MAX) cache.clear();
    cache.set(field, result);
  }
  return result;
}

const DENIED: ParsedLine = { kind: 'denied' };
const ANONYMOUS: ParsedLine = { kind: 'anonymous' };
const BAD_TIME: ParsedLine = { kind: 'bad', reason: 'bad time' };
const BAD_CODE: ParsedLine = { kind: 'bad', reason: 'bad result code' };
const BAD_SIZE: ParsedLine = { kind: 'bad', reason: 'absurd or malformed size' };
const NO_HOST: ParsedLine = { kind: 'bad', reason: 'no destination host' };

/**
 * A record from the fields at these indices (bytesOutField -1: not logged); the domain field is a
 * URL and the user is Squid-quoted in the native format, a host and URL-encoded in Q1. `userEnd`
 * overrides the user field's end (a native name with spaces spans several fields).
 */
function record(
  line: string,
  time: number,
  code: number,
  bytesInField: number,
  bytesOutField: number,
  domainField: number,
  native: boolean,
  user: number,
  userEnd = ends[user] as number,
): ParsedLine {
  const timeMs = parseTime(line, starts[time] as number, ends[time] as number);
  if (timeMs === undefined) return BAD_TIME;
  const codeStart = starts[code] as number;
  const codeEnd = ends[code] as number;
  const slash = line.indexOf('/', codeStart);
  if (slash === -1 || slash >= codeEnd) return BAD_CODE;
  const bytesIn = parseBytes(line, starts[bytesInField] as number, ends[bytesInField] as number);
  const bytesOut = bytesOutField === -1 ? 0 : parseBytes(line, starts[bytesOutField] as number, ends[bytesOutField] as number);
  if (bytesIn === undefined || bytesOut === undefined) return BAD_SIZE;
  // Squid refused the request (TCP_DENIED: 403 block page, 407 login prompt): nothing was browsed.
  if (line.startsWith('TCP_DENIED', codeStart) || line.startsWith('NONE_NONE', codeStart)) return DENIED;
  const userStart = starts[user] as number;
  if (userEnd - userStart === 1 && line.charCodeAt(userStart) === 45 /* - */) return ANONYMOUS;
  const name = nameOf(line.slice(userStart, userEnd), native);
  if ('problem' in name) return { kind: 'bad', reason: name.problem };
  const domStart = starts[domainField] as number;
  const domEnd = ends[domainField] as number;
  const domain = native || line.charCodeAt(domStart) === 91 /* [ */ ? hostIn(line, domStart, domEnd) : line.slice(domStart, domEnd).toLowerCase();
  if (domain.length === 0 || domain === '-') return NO_HOST;
  // A cache hit: the result tag (before the slash) says HIT (TCP_HIT, TCP_MEM_HIT, ...).
  const hit = line.indexOf('HIT', codeStart);
  return { kind: 'usage', timeMs, username: name.username, domain, bytesIn, bytesOut, cacheHit: hit !== -1 && hit < slash };
}

/** Parses one line (without its newline) in either format. */
export function parseSquidLine(line: string): ParsedLine {
  const n = scanFields(line);
  if (n > 0 && ends[0] === (starts[0] as number) + 2 && line.startsWith('Q1', starts[0])) {
    // Q1 time client code/status bytes_in bytes_out method domain user
    if (n !== 9) return BAD_FIELDS;
    return record(line, 1, 3, 4, 5, 7, false, 8);
  }
  // native: time elapsed client code/status bytes method URL user hierarchy type
  if (n === 10) return record(line, 0, 3, 4, -1, 6, true, 7);
  if (n < MAX_FIELDS) return BAD_FIELDS;
  // More fields: a user name with spaces. The name runs from its first field to the space before
  // the last two fields, found from the end of the line.
  const typeStart = lastFieldStart(line, line.length);
  const hierStart = typeStart > 0 ? lastFieldStart(line, typeStart) : -1;
  if (hierStart <= (starts[7] as number)) return BAD_FIELDS;
  let userEnd = hierStart;
  while (line.charCodeAt(userEnd - 1) === 32) userEnd--;
  return record(line, 0, 3, 4, -1, 6, true, 7, userEnd);
}

/** Where the last field before `end` starts (spaces before `end` skipped), or -1. */
function lastFieldStart(line: string, end: number): number {
  let i = end;
  while (i > 0 && line.charCodeAt(i - 1) === 32) i--;
  if (i === 0) return -1;
  while (i > 0 && line.charCodeAt(i - 1) !== 32) i--;
  return i;
}
