/**
 * PDF standard security handler (ISO 32000-2 §7.6.4), decrypting with the EMPTY user password,
 * as every viewer does when it opens such a file without asking: revisions 2-4 (RC4 40 to 128
 * bits, AESV2) and 5-6 (AESV3, SHA-256 based). Page counting only needs the streams that hold
 * objects (object streams): xref streams are never encrypted, and strings are not needed.
 * A file whose user password is not empty cannot be opened by a printer either; it is reported
 * as such and the caller falls back (docs/page-analysis.md, "Encrypted PDF").
 */
import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';

/** The bytes (already unescaped) of the strings the handler needs: /O, /U, /OE, /UE, /ID. */
export interface EncryptParams {
  filter: string | null;
  v: number;
  r: number;
  /** Key length in bits (V2/V3), default 40. */
  length: number;
  o: Buffer;
  u: Buffer;
  oe: Buffer | null;
  ue: Buffer | null;
  p: number;
  encryptMetadata: boolean;
  /** The crypt filter method streams use (V4/V5): 'V2', 'AESV2', 'AESV3', 'None' or null (V1-V3: RC4). */
  streamMethod: string | null;
  /** The first element of the trailer's /ID (empty when absent). */
  id0: Buffer;
}

/** Thrown when the document cannot be decrypted with the empty user password (or uses another handler). */
export class CannotDecrypt extends Error {}

/** Decrypts the data of one stream object. */
export type StreamDecryptor = (objNum: number, gen: number, data: Buffer) => Buffer;

const PAD = Buffer.from('28bf4e5e4e758a4164004e56fffa01082e2e00b6d0683e802f0ca9fe6453697a', 'hex');

/** RC4 (ARCFOUR) in JavaScript: OpenSSL 3 keeps it in the legacy provider, often not loaded. */
export function rc4(key: Buffer, data: Buffer): Buffer {
  const s = new Uint8Array(256);
  for (let i = 0; i < 256; i++) s[i] = i;
  for (let i = 0, j = 0; i < 256; i++) {
    j = (j + (s[i] as number) + (key[i % key.length] as number)) & 0xff;
    const t = s[i] as number;
    s[i] = s[j] as number;
    s[j] = t;
  }
  const out = Buffer.allocUnsafe(data.length);
  for (let k = 0, i = 0, j = 0; k < data.length; k++) {
    i = (i + 1) & 0xff;
    j = (j + (s[i] as number)) & 0xff;
    const t = s[i] as number;
    s[i] = s[j] as number;
    s[j] = t;
    out[k] = (data[k] as number) ^ (s[((s[i] as number) + (s[j] as number)) & 0xff] as number);
  }
  return out;
}

const md5 = (...parts: Buffer[]): Buffer => {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** AES-CBC decryption with the IV in the first 16 bytes; PKCS#5 padding removed when it is valid. */
function aesCbcDecrypt(key: Buffer, data: Buffer): Buffer {
  if (data.length < 32 || data.length % 16 !== 0) {
    // An empty stream is just the IV (16 bytes); anything not whole blocks is damaged.
    if (data.length === 16) return Buffer.alloc(0);
    throw new CannotDecrypt(`AES stream of ${data.length} bytes is not whole blocks`);
  }
  const d = createDecipheriv(key.length === 32 ? 'aes-256-cbc' : 'aes-128-cbc', key, data.subarray(0, 16));
  d.setAutoPadding(false);
  const plain = Buffer.concat([d.update(data.subarray(16)), d.final()]);
  const pad = plain[plain.length - 1] ?? 0;
  if (pad >= 1 && pad <= 16 && plain.length >= pad && plain.subarray(plain.length - pad).every((b) => b === pad)) return plain.subarray(0, plain.length - pad);
  return plain;
}

/** Algorithm 2 (revisions 2-4): the file key from the (empty) user password. */
function fileKeyR4(p: EncryptParams): Buffer {
  const n = p.r === 2 ? 5 : Math.max(5, Math.min(16, Math.floor(p.length / 8)));
  const perms = Buffer.alloc(4);
  perms.writeInt32LE(p.p | 0);
  const parts = [PAD, p.o.subarray(0, 32), perms, p.id0];
  if (p.r >= 4 && !p.encryptMetadata) parts.push(Buffer.from([0xff, 0xff, 0xff, 0xff]));
  let key = md5(...parts);
  if (p.r >= 3) for (let i = 0; i < 50; i++) key = md5(key.subarray(0, n));
  return key.subarray(0, n);
}

/** Algorithms 4 and 5: is this key the one the empty user password gives? */
function userKeyMatches(p: EncryptParams, key: Buffer): boolean {
  if (p.r === 2) return rc4(key, PAD).equals(p.u.subarray(0, 32));
  let x = rc4(key, md5(PAD, p.id0));
  for (let i = 1; i <= 19; i++) x = rc4(Buffer.from(key.map((b) => b ^ i)), x);
  return x.equals(p.u.subarray(0, 16));
}

/** Algorithm 2.B (revision 6): the hardened hash of a password with a salt. */
function hashR6(password: Buffer, salt: Buffer, udata: Buffer): Buffer {
  let k = createHash('sha256').update(password).update(salt).update(udata).digest();
  for (let round = 0; ; round++) {
    const k1 = Buffer.concat([password, k, udata]);
    const block = Buffer.alloc(64 * k1.length).fill(k1);
    const c = createCipheriv('aes-128-cbc', k.subarray(0, 16), k.subarray(16, 32));
    c.setAutoPadding(false);
    const e = Buffer.concat([c.update(block), c.final()]);
    let sum = 0;
    for (let i = 0; i < 16; i++) sum += e[i] as number;
    k = createHash(['sha256', 'sha384', 'sha512'][sum % 3] as string)
      .update(e)
      .digest();
    if (round >= 63 && (e[e.length - 1] as number) <= round - 31) break;
  }
  return k.subarray(0, 32);
}

/** Algorithm 2.A (revisions 5 and 6): the file key from the empty user password. */
function fileKeyR6(p: EncryptParams): Buffer {
  if (p.u.length < 48 || p.ue === null || p.ue.length < 32) throw new CannotDecrypt('AESV3 /U or /UE too short');
  const password = Buffer.alloc(0);
  const hash = (salt: Buffer): Buffer => (p.r === 5 ? createHash('sha256').update(password).update(salt).digest() : hashR6(password, salt, Buffer.alloc(0)));
  if (!hash(p.u.subarray(32, 40)).equals(p.u.subarray(0, 32))) throw new CannotDecrypt('the document needs a password to open');
  const d = createDecipheriv('aes-256-cbc', hash(p.u.subarray(40, 48)), Buffer.alloc(16));
  d.setAutoPadding(false);
  return Buffer.concat([d.update(p.ue.subarray(0, 32)), d.final()]);
}

/**
 * A decryptor for the document's streams, or a CannotDecrypt: another security handler
 * (certificates, a plug-in), an unknown revision, or a user password that is not empty.
 */
export function standardDecryptor(p: EncryptParams): StreamDecryptor {
  if (p.filter !== 'Standard') throw new CannotDecrypt(`security handler ${p.filter ?? '(none)'} is not the standard one`);
  if (p.r >= 5) {
    const key = fileKeyR6(p);
    if (p.streamMethod === 'None' || p.streamMethod === 'Identity') return (_n, _g, data) => data;
    return (_n, _g, data) => aesCbcDecrypt(key, data);
  }
  if (p.r < 2 || p.r > 4) throw new CannotDecrypt(`standard security handler revision ${p.r} is not known`);
  const key = fileKeyR4(p);
  if (!userKeyMatches(p, key)) throw new CannotDecrypt('the document needs a password to open');
  const method = p.v >= 4 ? p.streamMethod : 'V2';
  if (method === 'None' || method === 'Identity') return (_n, _g, data) => data;
  const aes = method === 'AESV2';
  if (!aes && method !== 'V2') throw new CannotDecrypt(`crypt filter method ${method ?? '(none)'} is not known`);
  return (objNum, gen, data) => {
    // Algorithm 1: the object's own key from the file key, its number and generation.
    const salt = Buffer.from([objNum & 0xff, (objNum >> 8) & 0xff, (objNum >> 16) & 0xff, gen & 0xff, (gen >> 8) & 0xff]);
    const objKey = md5(key, salt, aes ? Buffer.from('sAlT', 'latin1') : Buffer.alloc(0)).subarray(0, Math.min(16, key.length + 5));
    return aes ? aesCbcDecrypt(objKey, data) : rc4(objKey, data);
  };
}
