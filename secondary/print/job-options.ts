/**
 * What a CUPS job's options say about how it prints: colour, duplex, paper size, finishings,
 * billing code, and the job UUID CUPS passes in the options argument (`job-uuid=urn:uuid:…`).
 * Pure functions over the backend's fifth argument (`man backend`), plus the copy rule.
 *
 * The options argument is what cupsEncodeOptions() writes: `name=value` pairs separated by
 * spaces; a value may be quoted ('…' or "…") or escape a character with a backslash; a bare
 * `name` means true and `noname` false (lp -o landscape).
 */

export type CupsOptions = ReadonlyMap<string, string>;

/** Parses the options argument; never throws (garbage gives fewer or odd options, not a crash). */
export function parseCupsOptions(text: string): CupsOptions {
  const options = new Map<string, string>();
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && /\s/.test(text[i] ?? '')) i++;
    if (i >= n) break;
    let name = '';
    while (i < n && !/[\s=]/.test(text[i] ?? '')) name += text[i++];
    if (text[i] !== '=') {
      if (name === '') {
        i++;
        continue;
      }
      // A bare option: `name` is true, `noname` false (cupsParseOptions does the same).
      if (name.length > 2 && name.toLowerCase().startsWith('no')) options.set(name.slice(2).toLowerCase(), 'false');
      else options.set(name.toLowerCase(), 'true');
      continue;
    }
    i++; // '='
    let value = '';
    let depth = 0; // inside {…} collections spaces do not end the value
    while (i < n) {
      const c = text[i] ?? '';
      if (depth === 0 && /\s/.test(c)) break;
      if (c === '\\' && i + 1 < n) {
        value += text[i + 1];
        i += 2;
      } else if (c === "'" || c === '"') {
        i++;
        while (i < n && text[i] !== c) {
          if (text[i] === '\\' && i + 1 < n) i++;
          value += text[i++];
        }
        i++; // the closing quote (or past the end)
      } else {
        if (c === '{') depth++;
        if (c === '}' && depth > 0) depth--;
        value += c;
        i++;
      }
    }
    if (name !== '') options.set(name.toLowerCase(), value);
  }
  return options;
}

/** IPP finishings enum values (RFC 8011 §5.2.6, PWG 5100.1) to the names rate cards use. */
const FINISHINGS: ReadonlyMap<number, string> = new Map([
  [4, 'staple'],
  [5, 'punch'],
  [6, 'cover'],
  [7, 'bind'],
  [8, 'saddle-stitch'],
  [9, 'edge-stitch'],
  [10, 'fold'],
  [11, 'trim'],
  [12, 'bale'],
  [13, 'booklet-maker'],
  [14, 'jog-offset'],
  [15, 'coat'],
  [16, 'laminate'],
  ...[20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31].map((v) => [v, 'staple'] as [number, string]),
  ...[50, 51, 52, 53, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86].map((v) => [v, 'punch'] as [number, string]),
  ...[90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101].map((v) => [v, 'fold'] as [number, string]),
]);

/** PPD options that mean a finishing when set to anything but "None"/"False"/"Off". */
const PPD_FINISHINGS: ReadonlyMap<string, string> = new Map([
  ['staplelocation', 'staple'],
  ['staple', 'staple'],
  ['stapling', 'staple'],
  ['punch', 'punch'],
  ['punching', 'punch'],
  ['holepunch', 'punch'],
  ['fold', 'fold'],
  ['folding', 'fold'],
  ['booklet', 'booklet-maker'],
]);

const OFF = new Set(['', 'none', 'false', 'off', 'no', '0']);

export interface OptionFacts {
  /** true: colour; false: greyscale; null: the options do not say. */
  colour: boolean | null;
  /** true: two-sided; false: one-sided; null: the options do not say. */
  duplex: boolean | null;
  /** The first medium named (`media=A4,Tray1` → "A4"), as CUPS spells it; the primary normalises it. */
  paperSize: string | null;
  finishings: string[];
  /** `job-billing` (lp -o job-billing=…) or `job-account-id`; '' when absent. */
  accountCode: string;
  /** `job-uuid` as CUPS passes it (urn:uuid:…), or null. */
  jobUuid: string | null;
  /** `job-originating-host-name`, or ''. */
  clientHost: string;
  /** `time-at-creation` in epoch seconds, or null. */
  timeAtCreation: number | null;
}

const COLOUR_MODES: ReadonlyMap<string, boolean> = new Map([
  ['color', true],
  ['colour', true],
  ['auto', true],
  ['process-color', true],
  ['bi-level', false],
  ['highlight', true],
  ['monochrome', false],
  ['process-monochrome', false],
  ['gray', false],
  ['grey', false],
  ['auto-monochrome', false],
]);

/** ColorModel (PPD) values: anything naming a grey or black model is greyscale. */
function colourModel(value: string): boolean | null {
  const v = value.toLowerCase();
  if (OFF.has(v)) return null;
  if (/gray|grey|black|mono|^k$/.test(v)) return false;
  if (/rgb|cmy|colou?r/.test(v)) return true;
  return null;
}

/** The facts the options give; each absent fact is null (or empty). */
export function optionFacts(options: CupsOptions): OptionFacts {
  const get = (name: string): string | undefined => options.get(name);

  let colour: boolean | null = null;
  const mode = get('print-color-mode') ?? get('output-mode');
  if (mode !== undefined) colour = COLOUR_MODES.get(mode.toLowerCase()) ?? null;
  const model = get('colormodel');
  if (colour === null && model !== undefined) colour = colourModel(model);

  let duplex: boolean | null = null;
  const sides = get('sides')?.toLowerCase();
  if (sides === 'one-sided') duplex = false;
  else if (sides === 'two-sided-long-edge' || sides === 'two-sided-short-edge') duplex = true;
  const ppdDuplex = (get('duplex') ?? get('jcl duplex'))?.toLowerCase();
  if (duplex === null && ppdDuplex !== undefined) {
    if (ppdDuplex === 'duplexnotumble' || ppdDuplex === 'duplextumble' || ppdDuplex === 'true') duplex = true;
    else if (OFF.has(ppdDuplex)) duplex = false;
  }

  let paperSize: string | null = null;
  for (const name of ['media', 'pagesize', 'media-size-name']) {
    const v = get(name);
    if (v === undefined) continue;
    // media may list several keywords (size, type, source): the size is the one that is not a tray or type.
    const first = v
      .split(',')
      .map((s) => s.trim())
      .find((s) => s !== '' && !/^(tray|auto|manual|main|plain|transparency|envelope-feed|by-pass)/i.test(s));
    if (first !== undefined) {
      paperSize = first.slice(0, 64);
      break;
    }
  }

  const finishings = new Set<string>();
  for (const part of (get('finishings') ?? '').split(',')) {
    const name = FINISHINGS.get(Number.parseInt(part.trim(), 10));
    if (name !== undefined) finishings.add(name);
  }
  for (const [option, name] of PPD_FINISHINGS) {
    const v = get(option);
    if (v !== undefined && !OFF.has(v.toLowerCase())) finishings.add(name);
  }

  const accountCode = (get('job-billing') ?? get('job-account-id') ?? '').slice(0, 191);
  const uuid = get('job-uuid');
  const created = Number.parseInt(get('time-at-creation') ?? '', 10);
  return {
    colour,
    duplex,
    paperSize,
    finishings: [...finishings],
    accountCode,
    jobUuid: uuid !== undefined && /^urn:uuid:[0-9a-f-]{36}$/i.test(uuid) ? uuid.toLowerCase() : null,
    clientHost: (get('job-originating-host-name') ?? '').slice(0, 255),
    timeAtCreation: Number.isSafeInteger(created) && created > 0 ? created : null,
  };
}

/**
 * The copy rule. CUPS gives a backend a file name only when no filter ran (a raw queue, or a
 * document already in the printer's language): then the backend itself sends the document
 * `copiesArgument` times (the socket, ipp and lpd backends all do), and any copies marked inside
 * the document print on top of that. Without a file name the backend reads the filters' output
 * on stdin, and the filters have already produced the copies (`man backend`: "the backend
 * should assume the filters have already produced the necessary copies"): pstops marks them in
 * the PostScript (`/#copies`, `NumCopies`), which the analysis reports as `copiesInDocument`, or
 * repeats the pages, which the page count already includes. So the copies argument is used only
 * in the first case, and never multiplied with copies the filters made.
 */
export function chargedCopies(input: { hasFileArgument: boolean; copiesArgument: number; copiesInDocument: number }): number {
  const inDoc = Number.isSafeInteger(input.copiesInDocument) && input.copiesInDocument >= 1 ? input.copiesInDocument : 1;
  const arg = Number.isSafeInteger(input.copiesArgument) && input.copiesArgument >= 1 ? input.copiesArgument : 1;
  return Math.min(10_000, input.hasFileArgument ? arg * inDoc : inDoc);
}

/**
 * The job id every step is idempotent on: the CUPS job UUID (`job-uuid` in the options; CUPS
 * keeps it when the job is retried or restarted). Without one (an old CUPS) a stable id from this
 * print server, the queue, the CUPS job id and its creation time.
 */
export function jobIdFor(facts: Pick<OptionFacts, 'jobUuid' | 'timeAtCreation'>, fallback: { host: string; queue: string; cupsJobId: string }): string {
  if (facts.jobUuid !== null) return facts.jobUuid;
  return `cups:${fallback.host}/${fallback.queue}/${fallback.cupsJobId}@${facts.timeAtCreation ?? 0}`.slice(0, 191);
}
