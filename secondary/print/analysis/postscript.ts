/**
 * PostScript page counting: DSC comments (`%%Pages:`, including `(atend)`, and `%%Page:`) and,
 * as a cross-check, `showpage`/`copypage` operators outside comments, strings and procedure
 * bodies. Also notes the copies a filtered queue marks in the PostScript (`/#copies N` and
 * `/NumCopies N` in setpagedevice), `/Duplex true|false` and `%%DocumentMedia:`/`/PageSize`.
 * Embedded documents (`%%BeginDocument` ... `%%EndDocument`) are skipped for both counts.
 *
 * Which count wins (docs/page-analysis.md): the LARGER of the DSC count and the top-level
 * showpage count. DSC lies mostly by undercounting (concatenated jobs, a stale `%%Pages:`), and a
 * top-level showpage always ejects a page, so the maximum never undercounts by accident.
 */
import { paperSizeFromPoints } from './paper-size';
import { Budget, SeqReader, Source } from './source';
import type { Counted } from './types';

const MAX_TOKEN = 64;
/** Operators that run a procedure a number of times only the program knows. */
const LOOPS = new Set(['for', 'repeat', 'loop', 'forall', 'cshow', 'kshow', 'filenameforall', 'resourceforall', 'pathforall']);
const MAX_COMMENT = 256;

/** 1 for PostScript regular characters (neither white space nor a delimiter). */
const REGULAR = new Uint8Array(256).map((_, c) => (isWhiteChar(c) || isDelimChar(c) ? 0 : 1));

function isWhiteChar(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x0c || c === 0x00;
}
function isDelimChar(c: number): boolean {
  return c === 0x28 || c === 0x29 || c === 0x3c || c === 0x3e || c === 0x5b || c === 0x5d || c === 0x7b || c === 0x7d || c === 0x2f || c === 0x25;
}

/** Largest `<</Length N>>stream` skipped unparsed (ps2write's PDF content streams, images). */
const MAX_SKIPPED_STREAM = 64 * 1024 * 1024;

/** Does `data` hold `showpage`, `copypage` or one of `names` as a whole word? */
function ejectsIn(data: Buffer, names: ReadonlySet<string>): boolean {
  for (const word of ['showpage', 'copypage', ...names]) {
    for (let at = data.indexOf(word, 0, 'latin1'); at >= 0; at = data.indexOf(word, at + 1, 'latin1')) {
      const before = at === 0 ? 0x20 : (data[at - 1] as number);
      const after = at + word.length >= data.length ? 0x20 : (data[at + word.length] as number);
      if (REGULAR[before] === 0 && REGULAR[after] === 0) return true;
    }
  }
  return false;
}

/** `/name` (not `//name`, which is replaced by its value when read, nor a bare `/`). */
const isLiteralName = (t: string): boolean => t.length > 1 && t[0] === '/' && t[1] !== '/';

const isWhite = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x0c || c === 0x00;
const isDelim = (c: number): boolean =>
  c === 0x28 || c === 0x29 || c === 0x3c || c === 0x3e || c === 0x5b || c === 0x5d || c === 0x7b || c === 0x7d || c === 0x2f || c === 0x25;

export function analysePostScript(src: Source, limit: number, budget: Budget, warnings: string[], progress: { pages: number }): Counted | null {
  const rd = new SeqReader(src, limit);
  let dscPagesHeader: number | null = null;
  let dscPageComments = 0;
  let showpages = 0;
  let showpagesInProcs = 0;
  let copies: number | null = null;
  let duplex: boolean | null = null;
  let paperSize: string | null = null;
  let embedded = 0;
  let procDepth = 0;
  /** Per open procedure: does it (or one inside it) call showpage/copypage? Index = depth. */
  const procShows: boolean[] = [false];
  /** The procedure just closed called showpage: a loop operator next runs it an unknown number of times. */
  let closedProcShows = false;
  let loopedShowpage = false;
  /** Per open procedure: the name it is being defined under (`/name { … } def`), or null. */
  const procNames: (string | null)[] = [null];
  /**
   * Names that eject a page when run: procedures containing showpage (or such a name), and
   * aliases (`/eject /showpage load def`). Their calls count like showpage for certainty.
   */
  const showingNames = new Set<string>();
  /** Calls of such names at the top level. */
  let showingCalls = 0;
  /** The name before `/showpage`, until `load` confirms an alias. */
  let aliasOf: string | null = null;
  /**
   * `/Length N` seen within the last few tokens: ps2write (and so CUPS's pdftops) embeds PDF
   * objects as `<</Length N>>stream … endstream`, whose N bytes are PDF content with binary
   * inline images, not PostScript. They are skipped whole, so a stray `(` in them does not hide
   * the rest of the program (its %%Page: comments and %%Pages: trailer) inside a "string".
   */
  let streamLength: number | null = null;
  let streamLengthAge = 0;
  /** showpage/copypage inside %%BeginDocument … %%EndDocument: not counted, but not certain either. */
  let embeddedShowpages = 0;
  let lineStart = true;
  let prev = '';
  let token = '';
  let pageSizeArray: number[] | null = null;

  // `/NumCopies 3` is confirmed by the next token: in the driver idiom `N ... /NumCopies 4 -1 roll put`
  // the number after the name is a roll operand, not the copies (the DSC comment around it says N).
  let pendingCopies: number | null = null;
  const endToken = (): void => {
    if (token === '') return;
    const t = token;
    token = '';
    if (closedProcShows) {
      if (LOOPS.has(t)) loopedShowpage = true;
      closedProcShows = false;
    }
    if (pendingCopies !== null) {
      if (t !== '-1' && pendingCopies >= 1 && pendingCopies <= 9999) copies = pendingCopies;
      pendingCopies = null;
    }
    if (streamLength !== null && ++streamLengthAge > 8) streamLength = null;
    if (prev === '/Length' && /^\d{1,10}$/.test(t)) {
      streamLength = Number(t);
      streamLengthAge = 0;
    } else if (t === 'stream' && streamLength !== null && streamLength <= MAX_SKIPPED_STREAM) {
      // The byte that ended this token was its end of line; CR LF has one more.
      if (rd.buf[rd.i - 1] === 0x0d && rd.peek() === 0x0a) rd.next();
      // Whoever wrote the file decides what `stream` does: bytes that could eject a page are not
      // skipped blind. A page eject in them makes the count uncertain, as in an embedded document.
      if (ejectsIn(src.read(rd.pos, streamLength), showingNames)) embeddedShowpages++;
      rd.skip(streamLength);
      streamLength = null;
    }
    if (showingNames.size > 0 && showingNames.has(t)) {
      if (embedded > 0) embeddedShowpages++;
      else if (procDepth === 0) showingCalls++;
      else procShows[procDepth] = true;
    }
    // `/eject /showpage load def`: an alias (not `//systemdict /showpage get exec`, which just runs it).
    if (aliasOf !== null && t === 'load') showingNames.add(aliasOf);
    aliasOf = t === '/showpage' && isLiteralName(prev) ? prev.slice(1) : null;
    if (embedded > 0 && (t === 'showpage' || t === 'copypage')) embeddedShowpages++;
    if (embedded === 0) {
      if (t === 'showpage' || t === 'copypage') {
        if (procDepth === 0) {
          showpages++;
          progress.pages = Math.max(progress.pages, showpages);
        } else {
          showpagesInProcs++;
          // Only showpage: ps2write repeats `copypage` in a loop for a page's NumCopies, under a
          // conforming DSC page list; without one, any showpage/copypage in a procedure is uncertain.
          if (t === 'showpage') procShows[procDepth] = true;
        }
      } else if ((prev === '/#copies' || prev === '/NumCopies') && /^\d+$/.test(t)) {
        pendingCopies = Number(t);
      } else if (prev === '/Duplex' && (t === 'true' || t === 'false')) {
        duplex = t === 'true';
      }
      if (pageSizeArray !== null) {
        if (/^\d+(\.\d+)?$/.test(t) && pageSizeArray.length < 2) pageSizeArray.push(Number(t));
      }
      if (prev === '/PageSize' && t === '[') pageSizeArray = [];
      if (t === ']' && pageSizeArray !== null) {
        if (pageSizeArray.length === 2 && paperSize === null) paperSize = paperSizeFromPoints(pageSizeArray[0] as number, pageSizeArray[1] as number);
        pageSizeArray = null;
      }
    }
    prev = t;
  };

  const comment = (text: string): void => {
    if (text.startsWith('%%BeginDocument')) embedded++;
    else if (text.startsWith('%%EndDocument')) embedded = Math.max(0, embedded - 1);
    if (embedded > 0) return;
    const nc = /^%%(?:BeginNonPPDFeature:\s*NumCopies\s+|Requirements:.*numcopies\()(\d+)/.exec(text);
    if (nc) {
      const n = Number(nc[1]);
      if (n >= 1 && n <= 9999) copies = n;
    }
    if (text.startsWith('%%Pages:')) {
      const m = /^%%Pages:\s*(\d+)/.exec(text);
      if (m) dscPagesHeader = Number(m[1]); // the trailer's value after (atend) replaces the header's
    } else if (text.startsWith('%%Page:')) {
      dscPageComments++;
      progress.pages = Math.max(progress.pages, dscPageComments);
    } else if (text.startsWith('%%DocumentMedia:') && paperSize === null) {
      const m = /^%%DocumentMedia:\s*\S+\s+(\d+(?:\.\d+)?)\s+(\d+(?:\.\d+)?)/.exec(text);
      if (m) paperSize = paperSizeFromPoints(Number(m[1]), Number(m[2]));
    }
  };

  for (;;) {
    budget.tick();
    const c = rd.next();
    if (c < 0) break;
    if (c === 0x25) {
      // Comment to end of line; DSC comments start at a line start.
      endToken();
      const atLineStart = lineStart;
      let text = '%';
      let d = rd.next();
      while (d >= 0 && d !== 0x0a && d !== 0x0d) {
        if (text.length < MAX_COMMENT) text += String.fromCharCode(d);
        else {
          // Fast path past the rest of a long comment.
          const buf = rd.buf;
          let j = rd.i;
          while (j < buf.length && buf[j] !== 0x0a && buf[j] !== 0x0d) j++;
          rd.i = j;
        }
        d = rd.next();
        budget.tick();
      }
      if (atLineStart) comment(text);
      lineStart = true;
      continue;
    }
    if (c === 0x0a || c === 0x0d) {
      endToken();
      lineStart = true;
      continue;
    }
    lineStart = false;
    if (c === 0x28) {
      // String with nesting and escapes.
      endToken();
      let nest = 1;
      while (nest > 0) {
        budget.tick();
        // Fast path: skip ordinary string bytes within the chunk.
        const buf = rd.buf;
        let j = rd.i;
        while (j < buf.length) {
          const b = buf[j] as number;
          if (b === 0x5c || b === 0x28 || b === 0x29) break;
          j++;
        }
        rd.i = j;
        const d = rd.next();
        if (d < 0) break;
        if (d === 0x5c) rd.next();
        else if (d === 0x28) nest++;
        else if (d === 0x29) nest--;
      }
      prev = '(string)';
      continue;
    }
    if (c === 0x3c) {
      endToken();
      const d = rd.peek();
      if (d === 0x3c) {
        rd.next();
        prev = '<<';
        continue;
      }
      // Hex or ASCII85 string.
      const a85 = d === 0x7e;
      for (;;) {
        budget.tick();
        // Fast path: jump to the next possible terminator within the chunk.
        const k = rd.buf.indexOf(a85 ? 0x7e : 0x3e, rd.i);
        rd.i = k >= 0 ? k : rd.buf.length;
        const e = rd.next();
        if (e < 0) break;
        if (!a85 && e === 0x3e) break;
        if (a85 && e === 0x7e && rd.peek() === 0x3e) {
          rd.next();
          break;
        }
      }
      prev = '(string)';
      continue;
    }
    if (c === 0x7b) {
      endToken();
      procDepth++;
      procShows[procDepth] = false;
      procNames[procDepth] = isLiteralName(prev) ? prev.slice(1) : null;
      prev = '{';
      continue;
    }
    if (c === 0x7d) {
      endToken();
      if (procDepth > 0) {
        const shows = procShows[procDepth] === true;
        const name = procNames[procDepth];
        if (shows && name !== null && name !== undefined) showingNames.add(name);
        procDepth--;
        if (shows && procDepth > 0) procShows[procDepth] = true;
        closedProcShows = shows;
      }
      continue;
    }
    if (c === 0x5b || c === 0x5d) {
      endToken();
      token = String.fromCharCode(c);
      endToken();
      continue;
    }
    if (isWhite(c)) {
      endToken();
      continue;
    }
    if (c === 0x2f) {
      endToken();
      token = '/';
      continue;
    }
    if (isDelim(c)) {
      endToken();
      continue;
    }
    // Fast path: the rest of this run of regular characters straight from the chunk (image data
    // in ASCII85 or hex after `currentfile` is megabytes of such runs).
    const buf = rd.buf;
    const start = rd.i - 1;
    let j = rd.i;
    while (j < buf.length && REGULAR[buf[j] as number] === 1) j++;
    rd.i = j;
    if (token.length < MAX_TOKEN) token += buf.toString('latin1', start, Math.min(j, start + MAX_TOKEN - token.length));
  }
  endToken();
  if (pendingCopies !== null && pendingCopies >= 1 && pendingCopies <= 9999) copies = pendingCopies;

  const dsc = Math.max(dscPagesHeader ?? 0, dscPageComments);
  if (dscPagesHeader !== null && dscPageComments > 0 && dscPagesHeader !== dscPageComments) {
    warnings.push(`%%Pages: says ${dscPagesHeader}, the document has ${dscPageComments} %%Page: comments`);
  }
  if (dsc > 0 && showpages > 0 && dsc !== showpages) warnings.push(`DSC counts ${dsc} pages, top-level showpage ${showpages}: the larger wins`);
  const base = { colourPages: null, copiesInDocument: copies ?? 1, duplex, paperSize, warnings };
  if (dsc > 0 || showpages > 0) {
    const pages = Math.max(dsc, showpages);
    const method = showpages > dsc ? 'ps-showpage' : 'dsc-pages';
    // Certain only when nothing can print pages the scan does not see: no showpage run by a loop,
    // and either no showpage inside procedures at all, or a conforming DSC page list (%%Pages:
    // equal to the %%Page: comments), which is how drivers, ps2write and groff number the pages
    // they end inside their own procedures. Anything else is counted by running it (gs).
    // More calls of page-ejecting procedures at the top level than DSC pages, or showpage inside
    // an embedded document (CUPS's pstops wraps a non-DSC program as one page that way): the DSC
    // list does not describe what the program prints.
    // `%%Page:` comments are not required to match: the scan can lose them in binary data (fonts
    // and images ps2write embeds), where it keeps `%%Pages:` from the header or trailer.
    const conformingDsc = dscPagesHeader !== null && dscPagesHeader >= 1 && dscPageComments <= dscPagesHeader && dscPagesHeader >= showpages + showingCalls;
    const certain = !loopedShowpage && embeddedShowpages === 0 && ((showpagesInProcs === 0 && showingCalls === 0) || conformingDsc);
    if (!certain) {
      warnings.push(
        loopedShowpage
          ? 'showpage runs inside a loop: the program must be run to count its pages'
          : embeddedShowpages > 0
            ? 'showpage inside an embedded document: the program must be run to count its pages'
            : 'showpage inside procedures without a matching DSC page list: the program must be run to count its pages',
      );
    }
    return { ...base, pages, method, fallback: !certain };
  }
  if (showpagesInProcs > 0) {
    warnings.push('no DSC and showpage only inside procedures (loops cannot be counted without running the program)');
    return { ...base, pages: showpagesInProcs, method: 'ps-showpage-in-procedures', fallback: true };
  }
  return null;
}
