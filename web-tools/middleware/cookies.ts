/**
 * Reading and writing the web tools' cookies (no cookie-parser dependency: two cookies, simple
 * values). Session cookies are httpOnly, SameSite=Lax (so a link from a mail still arrives signed
 * in, while cross-site POSTs carry no cookie), path /, and Secure when the request is TLS.
 */
import type { Request, Response } from 'express';

export const SESSION_COOKIE = 'quotient_session';
/** Double-submit token for the sign-in form, before there is a session. */
export const PRESIGNIN_COOKIE = 'quotient_signin';

export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function setCookie(req: Request, res: Response, name: string, value: string, maxAgeSeconds: number): void {
  const attrs = [`${name}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Lax', `Max-Age=${maxAgeSeconds}`];
  if (req.secure) attrs.push('Secure');
  res.append('Set-Cookie', attrs.join('; '));
}

export function clearCookie(req: Request, res: Response, name: string): void {
  setCookie(req, res, name, '', 0);
}
