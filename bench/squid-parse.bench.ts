/**
 * Proxy ingestion bench (target: at least 300,000 Squid log lines/s parsed and aggregated).
 * Generates a file of realistic native and Q1 lines in a temp dir, then measures, in the same
 * run, a plain split('\n') of the file and our parse + aggregate of the same lines, and prints
 * both rates, their ratio and the target. Speed is printed, never asserted (a shared machine
 * is sometimes slow): a MISS exits 0. The run exits 1 only when the parse + aggregate totals
 * (lines of each kind, bytes in, cache-hit bytes, bytes out, requests) differ from what the
 * generator wrote, i.e. when the fast path got faster by getting wrong.
 * Standalone: `npx tsx bench/squid-parse.bench.ts [lines]`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeUsername, parseSquidLine } from '../secondary/proxy/squid-log-parser';
import { UsageAggregator } from '../secondary/proxy/usage-aggregator';

const TARGET = 300_000;
const LINES = Number(process.argv[2] ?? 1_000_000);

interface Totals {
  counts: { lines: number; usage: number; anonymous: number; denied: number; bad: number };
  bytesIn: number;
  cacheHitBytes: number;
  bytesOut: number;
  requests: number;
  users: number;
}

/** Writes `n` lines and returns what parsing and summing them must give. */
function generate(file: string, n: number): Totals {
  const expected: Totals = {
    counts: { lines: n, usage: 0, anonymous: 0, denied: 0, bad: 0 },
    bytesIn: 0,
    cacheHitBytes: 0,
    bytesOut: 0,
    requests: 0,
    users: 0,
  };
  const seen = new Set<string>();
  const users = Array.from({ length: 500 }, (_, i) => (i % 50 === 0 ? `Étudiant ${i}` : `user${i}`));
  const domains = Array.from({ length: 300 }, (_, i) => `www.site${i}.example.com`);
  const codes = ['TCP_MISS/200', 'TCP_HIT/200', 'TCP_MEM_HIT/200', 'TCP_TUNNEL/200', 'TCP_REFRESH_MODIFIED/200', 'TCP_DENIED/407'];
  const out: string[] = [];
  let t = 1_700_000_000;
  for (let i = 0; i < n; i++) {
    t += 0.003;
    const user = users[(i * 7919) % users.length] as string;
    const domain = domains[(i * 104729) % domains.length] as string;
    const code = codes[i % codes.length] as string;
    const size = 200 + ((i * 2654435761) % 2_000_000);
    const name = code === 'TCP_DENIED/407' ? '-' : encodeUsername(user);
    const upload = i % 2 === 0 ? 0 : i % 900; // native lines have no upload size
    if (code === 'TCP_DENIED/407') {
      expected.counts.denied++;
    } else {
      expected.counts.usage++;
      expected.requests++;
      if (code.includes('HIT')) expected.cacheHitBytes += size;
      else expected.bytesIn += size;
      expected.bytesOut += upload;
      seen.add(user.toLowerCase());
    }
    if (i % 2 === 0) {
      out.push(
        `${t.toFixed(3)} ${String(i % 5000).padStart(6)} 10.0.${i % 256}.${i % 200} ${code} ${size} GET http://${domain}/path/${i}/img.png ${name} HIER_DIRECT/93.184.216.34 image/png`,
      );
    } else {
      out.push(`Q1 ${t.toFixed(3)} 10.0.${i % 256}.${i % 200} ${code} ${size} ${upload} GET ${domain} ${name}`);
    }
    if (out.length === 100_000) {
      fs.appendFileSync(file, `${out.join('\n')}\n`);
      out.length = 0;
    }
  }
  if (out.length) fs.appendFileSync(file, `${out.join('\n')}\n`);
  expected.users = seen.size;
  return expected;
}

function best<T>(runs: number, fn: () => T): { ms: number; value: T } {
  let bestMs = Infinity;
  let value!: T;
  for (let r = 0; r < runs; r++) {
    const start = process.hrtime.bigint();
    value = fn();
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (ms < bestMs) bestMs = ms;
  }
  return { ms: bestMs, value };
}

function main(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quotient-squid-bench-'));
  const file = path.join(dir, 'access.log');
  try {
    const expected = generate(file, LINES);
    const text = fs.readFileSync(file, 'utf8');
    const split = best(3, () => text.split('\n').length - 1);
    const parse = best(3, () => {
      const agg = new UsageAggregator();
      let start = 0;
      for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
        const line = text.slice(start, nl);
        agg.add(parseSquidLine(line), line);
        start = nl + 1;
      }
      const sums = agg.drain().lines;
      const got: Totals = {
        counts: { ...agg.counts },
        bytesIn: 0,
        cacheHitBytes: 0,
        bytesOut: 0,
        requests: 0,
        users: new Set(sums.map((l) => l.username)).size,
      };
      for (const l of sums) {
        got.bytesIn += Number(l.bytesIn);
        got.cacheHitBytes += Number(l.cacheHitBytes);
        got.bytesOut += Number(l.bytesOut);
        got.requests += Number(l.requests);
      }
      return { totals: got, groups: sums.length };
    });
    const splitRate = (split.value / split.ms) * 1000;
    const parseRate = (parse.value.totals.counts.lines / parse.ms) * 1000;
    const mb = fs.statSync(file).size / 1e6;
    console.log(`squid log ingestion: ${LINES.toLocaleString('en')} lines, ${mb.toFixed(0)} MB (best of 3)`);
    console.log(`  split('\\n') only      ${Math.round(splitRate).toLocaleString('en').padStart(12)} lines/s  (${split.ms.toFixed(0)} ms)`);
    console.log(
      `  parse + aggregate     ${Math.round(parseRate).toLocaleString('en').padStart(12)} lines/s  (${parse.ms.toFixed(0)} ms)  = ${((parseRate / splitRate) * 100).toFixed(1)}% of split`,
    );
    console.log(`  counted: ${JSON.stringify(parse.value.totals.counts)}, ${parse.value.groups} user/domain sums`);
    console.log(
      `  target ${TARGET.toLocaleString('en')} lines/s: ${parseRate >= TARGET ? 'MET' : 'MISS'} (${(parseRate / TARGET).toFixed(2)}x; printed, not asserted)`,
    );
    const wrong = JSON.stringify(parse.value.totals) !== JSON.stringify(expected);
    console.log(`  totals (lines by kind, bytes in, cache-hit bytes, bytes out, requests, users): ${wrong ? 'WRONG' : 'as generated'}`);
    if (wrong) {
      console.log(`    expected ${JSON.stringify(expected)}\n    got      ${JSON.stringify(parse.value.totals)}`);
      process.exitCode = 1;
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
