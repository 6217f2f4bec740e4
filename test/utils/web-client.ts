/**
 * A plain HTTP client for the web tools of a running primary, for tests of what the HTTP layer
 * answers (status, headers, the page's message) where a browser would hide it: it keeps the two
 * cookies, signs in through the form, and reads the CSRF token from the last page.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { Logger } from '../../common/logger';

export interface WebAnswer {
  status: number;
  location: string | null;
  headers: Headers;
  text: string;
}

export class WebClient {
  private readonly cookies = new Map<string, string>();
  /** The CSRF token of the last page that had one. */
  csrf = '';

  constructor(readonly base: string) {}

  async request(method: string, path: string, opts: { body?: string | URLSearchParams; headers?: Record<string, string> } = {}): Promise<WebAnswer> {
    const headers: Record<string, string> = { ...opts.headers };
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (opts.body !== undefined) headers['content-type'] ??= 'application/x-www-form-urlencoded';
    const res = await fetch(`${this.base}${path}`, { method, headers, redirect: 'manual', ...(opts.body === undefined ? {} : { body: String(opts.body) }) });
    for (const cookie of res.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const eq = pair.indexOf('=');
      const value = pair.slice(eq + 1);
      if (value === '' || /Max-Age=0/i.test(cookie)) this.cookies.delete(pair.slice(0, eq));
      else this.cookies.set(pair.slice(0, eq), value);
    }
    const text = await res.text();
    const token = /name="_csrf" value="([^"]*)"/.exec(text)?.[1];
    if (token) this.csrf = token;
    return { status: res.status, location: res.headers.get('location'), headers: res.headers, text };
  }

  get(path: string, headers: Record<string, string> = {}): Promise<WebAnswer> {
    return this.request('GET', path, { headers });
  }

  /** Posts a form with this client's CSRF token (unless the fields name their own `_csrf`). */
  post(path: string, fields: Record<string, string> | [string, string][], headers: Record<string, string> = {}): Promise<WebAnswer> {
    const body = new URLSearchParams(fields);
    if (!body.has('_csrf')) body.set('_csrf', this.csrf);
    return this.request('POST', path, { body, headers });
  }

  async signIn(username: string, password: string, headers: Record<string, string> = {}): Promise<WebAnswer> {
    await this.get('/signin', headers);
    const res = await this.post('/signin', { username, password }, headers);
    if (res.status === 303) await this.get('/', headers); // the session's own CSRF token
    return res;
  }

  async signedIn(username: string, password: string): Promise<this> {
    const res = await this.signIn(username, password);
    assert.equal(res.status, 303, `sign-in of ${username}`);
    return this;
  }
}

/** The text of the page's error message (the error view's `#error-message`), unescaped. */
export function errorText(page: WebAnswer): string {
  const html = /id="error-message">([^<]*)</.exec(page.text)?.[1] ?? '';
  return html
    .replace(/&#x27;/g, "'")
    .replace(/&#x3D;/g, '=')
    .replace(/&#x60;/g, '`')
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .trim();
}

/** A logger that keeps every entry (JSON objects) for a test to read. */
export function recordingLogger(): { logger: Logger; entries: Record<string, unknown>[] } {
  const entries: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') entries.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), entries };
}
