/**
 * PDF page counting without a PDF library: the cross-reference chain from the LAST `startxref`
 * (so the newest incremental update wins), classic tables, xref streams and object streams
 * (FlateDecode with PNG predictors), then the page tree from /Root /Pages, walked leaf by leaf.
 * When the xref is broken the object table is rebuilt by scanning for `N G obj` (later
 * definitions win, as in an incremental update) and the tree is walked again; when even that
 * fails, the distinct `/Type /Page` objects are counted. Every loop is bounded: objects visited,
 * nesting depth, decompressed bytes and the caller's time budget.
 */
import { inflateSync } from 'node:zlib';
import { paperSizeFromPoints } from './paper-size';
import { CannotDecrypt, standardDecryptor, type EncryptParams, type StreamDecryptor } from './pdf-crypt';
import { Budget, BudgetExceeded, MalformedDocument, Source } from './source';
import type { Counted } from './types';

export const PDF_LIMITS = {
  /** Objects the page-tree walk may visit. */
  maxObjects: 1_000_000,
  /** Nesting of arrays and dictionaries inside one object. */
  maxDepth: 64,
  /** Depth of the page tree. */
  maxTreeDepth: 64,
  /** Bytes one stream may inflate to (zip bombs stop here). */
  maxInflated: 64 * 1024 * 1024,
  /** Largest window read to parse one object. */
  maxObjectWindow: 64 * 1024 * 1024,
  /** xref sections followed through /Prev. */
  maxXrefSections: 1000,
};

class Name {
  constructor(readonly name: string) {}
}
class Ref {
  constructor(
    readonly num: number,
    readonly gen: number,
  ) {}
}
/** A string, kept as its place in the window; decoded only when asked (the security handler's /O /U, the /ID). */
class Str {
  constructor(
    private readonly b: Buffer,
    private readonly start: number,
    private readonly end: number,
    private readonly hex: boolean,
  ) {}
  bytes(): Buffer {
    return this.hex ? decodeHexString(this.b.toString('latin1', this.start, this.end)) : decodeLiteralString(this.b.subarray(this.start, this.end));
  }
}

function decodeHexString(text: string): Buffer {
  const digits = text.replace(/[^0-9a-fA-F]/g, '');
  return Buffer.from(digits.length % 2 === 1 ? `${digits}0` : digits, 'hex');
}

const ESCAPES: Record<number, number> = { 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09, 0x62: 0x08, 0x66: 0x0c };

/** The bytes of a literal string between its outer parentheses: escapes, octal codes, line continuations. */
function decodeLiteralString(raw: Buffer): Buffer {
  const out: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as number;
    if (c !== 0x5c) {
      out.push(c);
      continue;
    }
    const d = raw[++i];
    if (d === undefined) break;
    if (d >= 0x30 && d <= 0x37) {
      let v = d - 0x30;
      for (let k = 0; k < 2 && (raw[i + 1] ?? 0) >= 0x30 && (raw[i + 1] ?? 0) <= 0x37; k++) v = v * 8 + ((raw[++i] as number) - 0x30);
      out.push(v & 0xff);
    } else if (d === 0x0d) {
      if (raw[i + 1] === 0x0a) i++;
    } else if (d !== 0x0a) out.push(ESCAPES[d] ?? d);
  }
  return Buffer.from(out);
}
class Keyword {
  constructor(readonly word: string) {}
}
type Dict = Map<string, Value>;
type Value = number | boolean | null | Name | Ref | Str | Keyword | Value[] | Dict;

class NeedMore extends Error {}

const isWhite = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x0c || c === 0x00;
const isDelim = (c: number): boolean =>
  c === 0x28 || c === 0x29 || c === 0x3c || c === 0x3e || c === 0x5b || c === 0x5d || c === 0x7b || c === 0x7d || c === 0x2f || c === 0x25;

/** A tokenizer/parser over one in-memory window; throws NeedMore when the window ends mid-object. */
class Lexer {
  i: number;
  constructor(
    readonly b: Buffer,
    start: number,
    private readonly atEof: boolean,
    private readonly budget: Budget,
  ) {
    this.i = start;
  }
  private end(): never {
    if (this.atEof) throw new MalformedDocument('unexpected end of PDF object');
    throw new NeedMore();
  }
  skipWs(): void {
    const b = this.b;
    for (;;) {
      if (this.i >= b.length) return;
      const c = b[this.i] as number;
      if (isWhite(c)) this.i++;
      else if (c === 0x25) {
        while (this.i < b.length && b[this.i] !== 0x0a && b[this.i] !== 0x0d) this.i++;
      } else return;
    }
  }
  /** Reads a bare token (number or keyword) starting at i. */
  private word(): string {
    const s = this.i;
    while (this.i < this.b.length && !isWhite(this.b[this.i] as number) && !isDelim(this.b[this.i] as number)) this.i++;
    if (this.i >= this.b.length && !this.atEof) this.end();
    return this.b.toString('latin1', s, this.i);
  }
  value(depth: number): Value {
    this.budget.tick();
    if (depth > PDF_LIMITS.maxDepth) throw new MalformedDocument('PDF objects nested too deeply');
    this.skipWs();
    const b = this.b;
    if (this.i >= b.length) this.end();
    const c = b[this.i] as number;
    if (c === 0x2f) {
      this.i++;
      return new Name(this.word());
    }
    if (c === 0x5b) {
      this.i++;
      const arr: Value[] = [];
      for (;;) {
        this.skipWs();
        if (this.i >= b.length) this.end();
        if (b[this.i] === 0x5d) {
          this.i++;
          return arr;
        }
        arr.push(this.value(depth + 1));
        this.foldRef(arr);
      }
    }
    if (c === 0x3c && b[this.i + 1] === 0x3c) {
      this.i += 2;
      const dict: Dict = new Map();
      for (;;) {
        this.skipWs();
        if (this.i >= b.length) this.end();
        if (b[this.i] === 0x3e && b[this.i + 1] === 0x3e) {
          this.i += 2;
          return dict;
        }
        if (this.i + 1 >= b.length) this.end();
        const key = this.value(depth + 1);
        if (!(key instanceof Name)) throw new MalformedDocument('PDF dictionary key is not a name');
        const val = this.value(depth + 1);
        const ref = this.maybeRef(val);
        dict.set(key.name, ref);
      }
    }
    if (c === 0x3c) {
      const close = b.indexOf(0x3e, this.i);
      if (close < 0) this.end();
      const start = this.i + 1;
      this.i = close + 1;
      return new Str(b, start, close, true);
    }
    if (c === 0x28) {
      let nest = 0;
      const start = this.i + 1;
      while (this.i < b.length) {
        const d = b[this.i++] as number;
        if (d === 0x5c) this.i++;
        else if (d === 0x28) nest++;
        else if (d === 0x29 && --nest === 0) return new Str(b, start, this.i - 1, false);
      }
      this.end();
    }
    if (c === 0x5d || c === 0x3e || c === 0x29 || c === 0x7b || c === 0x7d) {
      this.i++;
      return new Keyword(String.fromCharCode(c));
    }
    const w = this.word();
    if (w === '') {
      this.i++;
      return new Keyword('');
    }
    if (w === 'true') return true;
    if (w === 'false') return false;
    if (w === 'null') return null;
    const n = Number(w);
    if (Number.isFinite(n) && /^[+-]?(\d+\.?\d*|\.\d+)$/.test(w)) return n;
    return new Keyword(w);
  }
  /** After an integer, `G R` makes a reference: peek without consuming unless it matches. */
  private maybeRef(v: Value): Value {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) return v;
    const save = this.i;
    const m = /^\s+(\d+)\s+R(?![A-Za-z0-9])/.exec(this.b.toString('latin1', this.i, Math.min(this.b.length, this.i + 32)));
    if (m && this.i + m[0].length < this.b.length) {
      this.i += m[0].length;
      return new Ref(v, Number(m[1]));
    }
    if (!m && this.b.length - this.i < 32 && !this.atEof) this.end();
    this.i = save;
    return v;
  }
  private foldRef(arr: Value[]): void {
    const n = arr.length;
    if (n >= 3 && arr[n - 1] instanceof Keyword && (arr[n - 1] as Keyword).word === 'R') {
      const num = arr[n - 3];
      const gen = arr[n - 2];
      if (typeof num === 'number' && typeof gen === 'number') arr.splice(n - 3, 3, new Ref(num, gen));
    }
  }
}

type XrefEntry = { kind: 'offset'; offset: number } | { kind: 'compressed'; stream: number; index: number };

interface ParsedObject {
  value: Value;
  /** File offset of the stream data, when the object is a stream. */
  streamStart?: number;
  /** Object number and generation from the `N G obj` header (an encrypted stream's key depends on them). */
  num?: number;
  gen?: number;
}

const num = (v: Value | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const nameOf = (v: Value | undefined): string | null => (v instanceof Name ? v.name : null);

export class PdfReader {
  readonly xref = new Map<number, XrefEntry>();
  trailer: Dict = new Map();
  private readonly cache = new Map<number, Value>();
  private readonly objStreams = new Map<number, { data: Buffer; offsets: Map<number, number> }>();
  objectsVisited = 0;
  inflatedTotal = 0;
  /** Set when the trailer names an /Encrypt dictionary that the empty user password opens. */
  private decrypt: StreamDecryptor | null = null;
  readonly warnings: string[] = [];

  constructor(
    private readonly src: Source,
    private readonly budget: Budget,
  ) {}

  /** Parses one object (or an xref table's trailer) at a file offset, growing the window as needed. */
  parseAt(offset: number, expectHeader: boolean): ParsedObject {
    let window = 4 * 1024;
    for (;;) {
      this.budget.check();
      const buf = this.src.read(offset, window);
      const atEof = offset + buf.length >= this.src.size;
      try {
        const lx = new Lexer(buf, 0, atEof, this.budget);
        let header: { num: number; gen: number } | undefined;
        if (expectHeader) {
          const n = lx.value(0);
          const g = lx.value(0);
          const kw = lx.value(0);
          if (typeof n !== 'number' || typeof g !== 'number' || !(kw instanceof Keyword) || kw.word !== 'obj') {
            throw new MalformedDocument(`no object at offset ${offset}`);
          }
          header = { num: n, gen: g };
        }
        const value = lx.value(0);
        lx.skipWs();
        const rest = buf.toString('latin1', lx.i, Math.min(buf.length, lx.i + 7));
        if (rest.startsWith('stream')) {
          let s = lx.i + 6;
          if (buf[s] === 0x0d) s++;
          if (buf[s] === 0x0a) s++;
          return { value, streamStart: offset + s, ...header };
        }
        if (rest.length < 6 && !atEof) throw new NeedMore();
        return { value, ...header };
      } catch (err) {
        if (!(err instanceof NeedMore)) throw err;
        if (window >= PDF_LIMITS.maxObjectWindow) throw new MalformedDocument('PDF object too large');
        window *= 4;
      }
    }
  }

  /** Reads the xref chain from the last startxref. Throws when it is broken. */
  loadXref(): void {
    const tail = this.src.read(Math.max(0, this.src.size - 4096), 4096).toString('latin1');
    const at = tail.lastIndexOf('startxref');
    if (at < 0) throw new MalformedDocument('no startxref');
    const m = /^startxref\s+(\d+)/.exec(tail.slice(at));
    if (!m) throw new MalformedDocument('bad startxref');
    let offset: number | null = Number(m[1]);
    const seen = new Set<number>();
    let first = true;
    while (offset !== null) {
      if (seen.has(offset) || seen.size >= PDF_LIMITS.maxXrefSections) break;
      seen.add(offset);
      if (offset < 0 || offset >= this.src.size) throw new MalformedDocument('xref offset out of range');
      const trailer = this.readXrefSection(offset);
      if (first) this.trailer = trailer;
      else for (const [k, v] of trailer) if (!this.trailer.has(k)) this.trailer.set(k, v);
      first = false;
      // Hybrid files: a classic table's /XRefStm holds entries the newer readers use.
      const stm = num(trailer.get('XRefStm'));
      if (stm !== null && !seen.has(stm)) {
        seen.add(stm);
        this.readXrefSection(stm);
      }
      offset = num(trailer.get('Prev'));
    }
  }

  private setEntry(objNum: number, e: XrefEntry): void {
    // Walking from the newest section back: the first definition seen is the live one.
    if (!this.xref.has(objNum)) this.xref.set(objNum, e);
  }

  private readXrefSection(offset: number): Dict {
    const head = this.src.read(offset, 4);
    if (head.toString('latin1') === 'xref') return this.readXrefTable(offset + 4);
    const obj = this.parseAt(offset, true);
    if (!(obj.value instanceof Map) || obj.streamStart === undefined || nameOf(obj.value.get('Type')) !== 'XRef') {
      throw new MalformedDocument('startxref does not point at an xref');
    }
    const dict = obj.value;
    const data = this.streamData(dict, obj.streamStart);
    const w = dict.get('W');
    if (!Array.isArray(w) || w.length < 3) throw new MalformedDocument('xref stream without /W');
    const [w0, w1, w2] = w.map((x) => num(x) ?? -1) as [number, number, number];
    if ([w0, w1, w2].some((x) => x < 0 || x > 8)) throw new MalformedDocument('bad xref /W');
    const size = num(dict.get('Size')) ?? 0;
    const index = dict.get('Index');
    const ranges: number[] = Array.isArray(index) ? index.map((x) => num(x) ?? 0) : [0, size];
    const rowLen = w0 + w1 + w2;
    if (rowLen === 0) throw new MalformedDocument('bad xref /W');
    const field = (p: number, n: number, dflt: number): number => {
      if (n === 0) return dflt;
      let v = 0;
      for (let k = 0; k < n; k++) v = v * 256 + (data[p + k] ?? 0);
      return v;
    };
    let p = 0;
    for (let r = 0; r + 1 < ranges.length; r += 2) {
      const start = ranges[r] as number;
      const count = ranges[r + 1] as number;
      for (let k = 0; k < count && p + rowLen <= data.length; k++, p += rowLen) {
        this.budget.tick();
        const type = field(p, w0, 1);
        const f1 = field(p + w0, w1, 0);
        const f2 = field(p + w0 + w1, w2, 0);
        if (type === 1) this.setEntry(start + k, { kind: 'offset', offset: f1 });
        else if (type === 2) this.setEntry(start + k, { kind: 'compressed', stream: f1, index: f2 });
        else if (type === 0 && !this.xref.has(start + k)) this.xref.set(start + k, { kind: 'offset', offset: -1 });
      }
    }
    return dict;
  }

  private readXrefTable(pos: number): Dict {
    // Read in growing windows until "trailer" appears.
    let window = 64 * 1024;
    for (;;) {
      const buf = this.src.read(pos, window);
      const text = buf.toString('latin1');
      const t = text.indexOf('trailer');
      if (t < 0) {
        if (pos + buf.length >= this.src.size || window >= PDF_LIMITS.maxObjectWindow) throw new MalformedDocument('xref table without trailer');
        window *= 4;
        continue;
      }
      const re = /(\d+)\s+(\d+)\s*[\r\n]|(\d{10})\s(\d{5})\s([nf])/g;
      let objNum = 0;
      let m: RegExpExecArray | null;
      const body = text.slice(0, t);
      while ((m = re.exec(body)) !== null) {
        this.budget.tick();
        if (m[1] !== undefined) objNum = Number(m[1]);
        else {
          if (m[5] === 'n') this.setEntry(objNum, { kind: 'offset', offset: Number(m[3]) });
          else if (!this.xref.has(objNum)) this.xref.set(objNum, { kind: 'offset', offset: -1 });
          objNum++;
        }
      }
      const tr = this.parseAt(pos + t + 7, false);
      if (!(tr.value instanceof Map)) throw new MalformedDocument('bad trailer');
      return tr.value;
    }
  }

  /**
   * Prepares decryption when the trailer names an /Encrypt dictionary. Returns false when the
   * document is encrypted and cannot be opened with the empty user password (its object streams
   * then stay unreadable); true otherwise.
   */
  setUpDecryption(warnings: string[]): boolean {
    this.decrypt = null;
    const enc = this.resolve(this.trailer.get('Encrypt'));
    if (enc === undefined || enc === null) return true;
    if (!(enc instanceof Map)) {
      warnings.push('the /Encrypt entry is not a dictionary');
      return false;
    }
    const bytes = (v: Value | undefined): Buffer | null => (v instanceof Str ? v.bytes() : null);
    // Any entry may be an indirect reference (rare, but legal).
    const get = (key: string): Value | undefined => this.resolve(enc.get(key));
    const id = this.resolve(this.trailer.get('ID'));
    const v = num(get('V')) ?? 0;
    let streamMethod: string | null = null;
    if (v >= 4) {
      const stmF = nameOf(get('StmF')) ?? 'Identity';
      const cf = get('CF');
      const filter = cf instanceof Map ? this.resolve(cf.get(stmF)) : undefined;
      streamMethod = stmF === 'Identity' ? 'Identity' : filter instanceof Map ? (nameOf(filter.get('CFM')) ?? 'None') : null;
    }
    const params: EncryptParams = {
      filter: nameOf(get('Filter')),
      v,
      r: num(get('R')) ?? 0,
      length: num(get('Length')) ?? 40,
      o: bytes(get('O')) ?? Buffer.alloc(0),
      u: bytes(get('U')) ?? Buffer.alloc(0),
      oe: bytes(get('OE')),
      ue: bytes(get('UE')),
      p: num(get('P')) ?? 0,
      encryptMetadata: get('EncryptMetadata') !== false,
      streamMethod,
      id0: (Array.isArray(id) ? bytes(this.resolve(id[0])) : null) ?? Buffer.alloc(0),
    };
    try {
      this.decrypt = standardDecryptor(params);
      return true;
    } catch (err) {
      if (!(err instanceof CannotDecrypt)) throw err;
      warnings.push(`encrypted PDF: ${err.message}`);
      return false;
    }
  }

  /** Raw (decoded) stream bytes, bounded; `owner` is the stream's object (decrypted when the document is encrypted). */
  streamData(dict: Dict, start: number, owner?: { num?: number; gen?: number }): Buffer {
    let len = num(this.resolve(dict.get('Length')));
    if (len === null || len < 0 || start + len > this.src.size) {
      // Length missing or wrong: find endstream.
      const probe = this.src.read(start, Math.min(PDF_LIMITS.maxObjectWindow, this.src.size - start));
      const e = probe.indexOf('endstream');
      if (e < 0) throw new MalformedDocument('stream without endstream');
      len = e;
    }
    if (len > PDF_LIMITS.maxObjectWindow) throw new MalformedDocument('stream too large');
    let data = this.src.read(start, len);
    if (this.decrypt !== null && owner?.num !== undefined) {
      try {
        data = this.decrypt(owner.num, owner.gen ?? 0, data);
      } catch (err) {
        throw new MalformedDocument(`cannot decrypt object ${owner.num}: ${(err as Error).message}`);
      }
    }
    const filter = this.resolve(dict.get('Filter'));
    const filters = Array.isArray(filter) ? filter : filter === undefined || filter === null ? [] : [filter];
    const parmsV = this.resolve(dict.get('DecodeParms'));
    for (let fi = 0; fi < filters.length; fi++) {
      const f = nameOf(filters[fi]);
      if (f !== 'FlateDecode' && f !== 'Fl') throw new MalformedDocument(`unsupported filter ${f ?? '?'}`);
      const remaining = PDF_LIMITS.maxInflated - this.inflatedTotal;
      if (remaining <= 0) throw new MalformedDocument('decompressed size limit reached');
      try {
        data = inflateSync(data, { maxOutputLength: remaining, finishFlush: 2 /* Z_SYNC_FLUSH: tolerate truncation */ });
      } catch (err) {
        throw new MalformedDocument(`FlateDecode failed: ${(err as Error).message}`);
      }
      this.inflatedTotal += data.length;
      const parms = Array.isArray(parmsV) ? parmsV[fi] : parmsV;
      if (parms instanceof Map) data = unpredict(data, parms);
    }
    return data;
  }

  resolve(v: Value | undefined, depth = 0): Value | undefined {
    if (!(v instanceof Ref)) return v;
    if (depth > 8) throw new MalformedDocument('reference chain too long');
    return this.resolve(this.getObject(v.num), depth + 1);
  }

  getObject(objNum: number): Value {
    // Polled on every lookup, cached or not: a page tree that names the same nodes over and over
    // is all cache hits, and must still run out of time.
    this.budget.tick();
    const cached = this.cache.get(objNum);
    if (cached !== undefined) return cached;
    if (++this.objectsVisited > PDF_LIMITS.maxObjects) throw new MalformedDocument('too many PDF objects visited');
    const e = this.xref.get(objNum);
    let value: Value = null;
    if (e === undefined || (e.kind === 'offset' && e.offset < 0)) value = null;
    else if (e.kind === 'offset') {
      if (e.offset >= this.src.size) throw new MalformedDocument(`object ${objNum} offset out of range`);
      value = this.parseAt(e.offset, true).value;
    } else {
      value = this.fromObjectStream(e.stream, e.index, objNum);
    }
    this.cache.set(objNum, value);
    return value;
  }

  private fromObjectStream(streamNum: number, _index: number, objNum: number): Value {
    let os = this.objStreams.get(streamNum);
    if (os === undefined) {
      const e = this.xref.get(streamNum);
      if (e === undefined || e.kind !== 'offset' || e.offset < 0) throw new MalformedDocument('object stream missing');
      const obj = this.parseAt(e.offset, true);
      if (!(obj.value instanceof Map) || obj.streamStart === undefined) throw new MalformedDocument('object stream is not a stream');
      const data = this.streamData(obj.value, obj.streamStart, obj);
      const n = num(obj.value.get('N')) ?? 0;
      const first = num(obj.value.get('First')) ?? 0;
      const lx = new Lexer(data, 0, true, this.budget);
      const offsets = new Map<number, number>();
      for (let k = 0; k < n && k < 1_000_000; k++) {
        const on = lx.value(0);
        const off = lx.value(0);
        if (typeof on !== 'number' || typeof off !== 'number') break;
        offsets.set(on, first + off);
      }
      os = { data, offsets };
      this.objStreams.set(streamNum, os);
    }
    const at = os.offsets.get(objNum);
    if (at === undefined) return null;
    return new Lexer(os.data, at, true, this.budget).value(0);
  }

  /** Rebuilds the object table by scanning the whole file for `N G obj` (the last one wins). */
  reconstruct(warnings: string[]): void {
    this.xref.clear();
    this.cache.clear();
    this.objStreams.clear();
    const re = /(\d{1,10})\s+(\d{1,5})\s+obj\b/g;
    const trailerRe = /trailer\s*<</g;
    const chunk = 4 * 1024 * 1024;
    const overlap = 64;
    let lastTrailer = -1;
    for (let pos = 0; pos < this.src.size; pos += chunk) {
      this.budget.check();
      const start = Math.max(0, pos - overlap);
      const text = this.src.read(start, chunk + (pos - start)).toString('latin1');
      re.lastIndex = 0;
      let m: RegExpExecArray | null;
      while ((m = re.exec(text)) !== null) {
        this.budget.tick();
        if (start + m.index < pos && pos > 0) continue; // already seen in the previous chunk
        this.xref.set(Number(m[1]), { kind: 'offset', offset: start + m.index });
      }
      trailerRe.lastIndex = 0;
      while ((m = trailerRe.exec(text)) !== null) lastTrailer = start + m.index + 7;
    }
    this.trailer = new Map();
    if (lastTrailer >= 0) {
      try {
        const t = this.parseAt(lastTrailer, false).value;
        if (t instanceof Map) this.trailer = t;
      } catch (err) {
        if (err instanceof BudgetExceeded) throw err;
      }
    }
    if (!this.trailer.has('Root') && !this.trailer.has('Encrypt')) this.trailerFromXrefStream();
    try {
      this.setUpDecryption(warnings);
    } catch (err) {
      if (err instanceof BudgetExceeded) throw err;
      warnings.push(`the /Encrypt dictionary is unreadable (${(err as Error).message})`);
    }
    // Object streams found while scanning: index their members too (only when no plain definition exists).
    for (const [n, e] of [...this.xref]) {
      if (e.kind !== 'offset') continue;
      try {
        const o = this.getObject(n);
        if (o instanceof Map && nameOf(o.get('Type')) === 'ObjStm') {
          this.cache.delete(n);
          const obj = this.parseAt(e.offset, true);
          if (obj.value instanceof Map && obj.streamStart !== undefined) {
            const data = this.streamData(obj.value, obj.streamStart, obj);
            const cnt = num(obj.value.get('N')) ?? 0;
            const lx = new Lexer(data, 0, true, this.budget);
            for (let k = 0; k < cnt && k < 1_000_000; k++) {
              const on = lx.value(0);
              lx.value(0);
              if (typeof on !== 'number') break;
              if (!this.xref.has(on)) this.xref.set(on, { kind: 'compressed', stream: n, index: k });
            }
          }
        } else if (!this.trailer.has('Root') && o instanceof Map && nameOf(o.get('Type')) === 'Catalog') {
          this.trailer.set('Root', new Ref(n, 0));
        }
      } catch (err) {
        if (err instanceof BudgetExceeded) throw err;
      }
    }
  }

  /** A file without a `trailer` keyword keeps its trailer in the xref stream: the last one found (the newest) is taken. */
  private trailerFromXrefStream(): void {
    let best: { offset: number; dict: Dict } | undefined;
    for (const [n, e] of this.xref) {
      if (e.kind !== 'offset' || (best !== undefined && e.offset < best.offset)) continue;
      try {
        const o = this.getObject(n);
        if (o instanceof Map && nameOf(o.get('Type')) === 'XRef') best = { offset: e.offset, dict: o };
      } catch (err) {
        if (err instanceof BudgetExceeded) throw err;
      }
    }
    if (best) for (const key of ['Root', 'Encrypt', 'ID']) if (best.dict.has(key)) this.trailer.set(key, best.dict.get(key) as Value);
  }
}

/** PNG predictors (10-15) as xref and object streams use them; TIFF predictor 2 is left as is. */
function unpredict(data: Buffer, parms: Dict): Buffer {
  const predictor = num(parms.get('Predictor')) ?? 1;
  if (predictor < 10) return data;
  const colors = num(parms.get('Colors')) ?? 1;
  const bpc = num(parms.get('BitsPerComponent')) ?? 8;
  const columns = num(parms.get('Columns')) ?? 1;
  const bpp = Math.max(1, Math.ceil((colors * bpc) / 8));
  const rowLen = Math.ceil((colors * bpc * columns) / 8);
  if (rowLen <= 0 || rowLen > 1 << 20) throw new MalformedDocument('bad predictor parameters');
  const rows = Math.floor(data.length / (rowLen + 1));
  const out = Buffer.alloc(rows * rowLen);
  for (let r = 0; r < rows; r++) {
    const type = data[r * (rowLen + 1)] ?? 0;
    const src = r * (rowLen + 1) + 1;
    const dst = r * rowLen;
    for (let k = 0; k < rowLen; k++) {
      const raw = data[src + k] ?? 0;
      const left = k >= bpp ? (out[dst + k - bpp] ?? 0) : 0;
      const up = r > 0 ? (out[dst - rowLen + k] ?? 0) : 0;
      const ul = r > 0 && k >= bpp ? (out[dst - rowLen + k - bpp] ?? 0) : 0;
      let v: number;
      switch (type) {
        case 1:
          v = raw + left;
          break;
        case 2:
          v = raw + up;
          break;
        case 3:
          v = raw + ((left + up) >> 1);
          break;
        case 4: {
          const p = left + up - ul;
          const pa = Math.abs(p - left);
          const pb = Math.abs(p - up);
          const pc = Math.abs(p - ul);
          v = raw + (pa <= pb && pa <= pc ? left : pb <= pc ? up : ul);
          break;
        }
        default:
          v = raw;
      }
      out[dst + k] = v & 0xff;
    }
  }
  return out;
}

interface TreeResult {
  pages: number;
  complete: boolean;
  rootCount: number | null;
  firstMediaBox: Value | undefined;
}

/**
 * Walks the page tree from /Root /Pages, counting leaves; stops (incomplete) on cycles, broken
 * nodes, more than PDF_LIMITS.maxObjects visits or more than `maxPages` leaves. The last two stop
 * a tree that is a DAG: /Kids may name one node twice (a page printed twice is legal), and
 * nodes that each name the same child twice make 2^depth leaves out of a few hundred bytes. The
 * visiting set only catches loops, so the visits and leaves are capped, and the clock polled on
 * every visit (resolving a node seen before is a cache hit that reads nothing).
 */
function walkTree(r: PdfReader, budget: Budget, maxPages: number, warnings: string[]): TreeResult {
  const root = r.resolve(r.trailer.get('Root'));
  if (!(root instanceof Map)) throw new MalformedDocument('no /Root catalog');
  const pagesRef = root.get('Pages');
  const pagesNode = r.resolve(pagesRef);
  if (!(pagesNode instanceof Map)) throw new MalformedDocument('no /Pages');
  const rootCount = num(r.resolve(pagesNode.get('Count')));
  const result: TreeResult = { pages: 0, complete: true, rootCount, firstMediaBox: undefined };
  const visiting = new Set<Map<string, Value>>();
  let visits = 0;
  /** False once a cap is reached: the walk unwinds without visiting anything more. */
  let going = true;
  const stop = (why: string): void => {
    result.complete = false;
    going = false;
    warnings.push(why);
  };
  const visit = (node: Dict, depth: number, inheritedBox: Value | undefined): void => {
    budget.tick();
    if (++visits > PDF_LIMITS.maxObjects) return stop(`page tree walk stopped after ${PDF_LIMITS.maxObjects} nodes`);
    if (depth > PDF_LIMITS.maxTreeDepth) {
      result.complete = false;
      return;
    }
    if (visiting.has(node)) {
      result.complete = false; // a /Kids cycle
      return;
    }
    const box = node.get('MediaBox') ?? inheritedBox;
    const type = nameOf(node.get('Type'));
    const kids = r.resolve(node.get('Kids'));
    if (type === 'Page' || (type !== 'Pages' && !Array.isArray(kids))) {
      if (result.pages >= maxPages) return stop(`page tree has more than ${maxPages} pages, more than the file's size allows`);
      result.pages++;
      if (result.firstMediaBox === undefined) result.firstMediaBox = r.resolve(box);
      return;
    }
    if (!Array.isArray(kids)) {
      result.complete = false;
      return;
    }
    visiting.add(node);
    for (const k of kids) {
      if (!going) break;
      let kid: Value | undefined;
      try {
        kid = r.resolve(k);
      } catch (err) {
        if (err instanceof BudgetExceeded) throw err;
        result.complete = false;
        continue;
      }
      if (kid instanceof Map) visit(kid, depth + 1, box);
      else result.complete = false;
    }
    visiting.delete(node);
  };
  visit(pagesNode, 0, undefined);
  return result;
}

function mediaBoxSize(v: Value | undefined): string | null {
  if (!Array.isArray(v) || v.length < 4) return null;
  const [x0, y0, x1, y1] = v.map((x) => num(x) ?? NaN) as [number, number, number, number];
  return paperSizeFromPoints(Math.abs(x1 - x0), Math.abs(y1 - y0));
}

/** Counts distinct page objects (the last definition of each object number) in the rebuilt table. */
function scanPages(r: PdfReader, budget: Budget): number {
  let pages = 0;
  for (const n of r.xref.keys()) {
    budget.tick();
    try {
      const o = r.getObject(n);
      if (o instanceof Map && nameOf(o.get('Type')) === 'Page') pages++;
    } catch (err) {
      if (err instanceof BudgetExceeded) throw err;
    }
  }
  return pages;
}

/** Which count wins, given a tree walk: see docs/page-analysis.md ("PDF"). */
function fromTree(t: TreeResult, method: string, warnings: string[], maxPlausible: number): Counted | null {
  const plausibleCount = t.rootCount !== null && Number.isInteger(t.rootCount) && t.rootCount > 0 && t.rootCount <= maxPlausible ? t.rootCount : null;
  if (t.rootCount !== null && t.rootCount !== t.pages) warnings.push(`/Count says ${t.rootCount}, the page tree has ${t.pages} pages`);
  let pages = t.pages;
  let fallback = false;
  if (!t.complete) {
    warnings.push('page tree is broken (cycle, missing or malformed nodes)');
    if (plausibleCount !== null && plausibleCount > pages) pages = plausibleCount;
    fallback = true;
  }
  if (pages < 1) return null;
  return { pages, colourPages: null, copiesInDocument: 1, duplex: null, paperSize: mediaBoxSize(t.firstMediaBox), method, fallback, warnings };
}

/** The source seen from `start` on: PDF offsets count from `%PDF-`, after any PJL or junk in front. */
function shifted(src: Source, start: number): Source {
  return { size: src.size - start, read: (pos, len) => src.read(pos + start, len), close: () => src.close() };
}

export function analysePdf(whole: Source, budget: Budget, warnings: string[]): Counted | null {
  const header = whole.read(0, 1024).indexOf('%PDF-');
  const src = header > 0 ? shifted(whole, header) : whole;
  // A page costs at least a few dozen bytes, which bounds any believable /Count.
  const maxPlausible = Math.max(1, Math.floor(src.size / 20));
  const r = new PdfReader(src, budget);
  try {
    r.loadXref();
    r.setUpDecryption(warnings);
    const res = fromTree(walkTree(r, budget, maxPlausible, warnings), 'pdf-page-tree', warnings, maxPlausible);
    if (res) return res;
  } catch (err) {
    if (err instanceof BudgetExceeded) throw err;
    warnings.push(`xref/page tree unreadable (${(err as Error).message}); rebuilding the object table`);
  }
  r.reconstruct(warnings);
  try {
    const res = fromTree(walkTree(r, budget, maxPlausible, warnings), 'pdf-reconstructed-tree', warnings, maxPlausible);
    if (res) {
      res.fallback = true;
      return res;
    }
  } catch (err) {
    if (err instanceof BudgetExceeded) throw err;
    warnings.push(`rebuilt page tree unreadable (${(err as Error).message}); counting page objects`);
  }
  const pages = scanPages(r, budget);
  if (pages < 1) return null;
  return { pages, colourPages: null, copiesInDocument: 1, duplex: null, paperSize: null, method: 'pdf-page-scan', fallback: true, warnings };
}
