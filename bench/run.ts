/**
 * Entry point of `npm run bench`: ledger operations per second through Quotient and through the
 * raw driver doing the same work, on SQLite and on MySQL/MariaDB, in one run; prints the ratio,
 * the overhead breakdown and the machine. Speed is never asserted: only the books are (the run
 * fails if LedgerService.verify() finds a problem or a ledger row is missing).
 */
import os from 'node:os';
import { table, fmt, microsPerOp, opsPerSecond } from './harness';
import { benchDialect, pairsFor, type DialectReport } from './ledger.bench';
import { parseOptions, UsageError, USAGE, type BenchOptions } from './options';
import { openMysql, openSqlite } from './setup';

function machine(): string {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${fmt(os.totalmem() / 2 ** 30, 1)} GiB, ${os.type()} ${os.release()}, Node ${process.version}`;
}

function printReport(r: DialectReport): void {
  console.log(`\n${r.dialect}: ${r.database}`);
  for (const s of r.server) console.log(`  ${s}`);
  console.log('\n  overhead of one sequential debit, step by step:');
  const rows: string[][] = [];
  let previous: number | undefined;
  for (const step of r.breakdown) {
    const us = microsPerOp(step.timing);
    rows.push([step.label, fmt(opsPerSecond(step.timing)), fmt(us), previous === undefined ? '' : `${us >= previous ? '+' : ''}${fmt(us - previous)}`]);
    previous = us;
  }
  console.log(indent(table(['step', 'ops/s', 'µs/op', 'Δ µs'], rows, [false, true, true, true]), 4));
  if (r.lock) {
    console.log(`\n  why lockAccounts writes updated_at and not id (SET id = id was the lock until it was measured here); its plan adds: ${r.lock.plan.join('; ')}`);
    const lockRows = r.lock.costs.map((c) => [c.scenario, fmt(c.keyUpdateUs, 1), fmt(c.nonKeyUpdateUs, 1)]);
    console.log(indent(table(['books', 'SET id = id µs', 'SET updated_at = updated_at µs'], lockRows, [false, true, true]), 4));
  }
}

function indent(text: string, n: number): string {
  return text
    .split('\n')
    .map((l) => ' '.repeat(n) + l)
    .join('\n');
}

function printSummary(reports: DialectReport[]): void {
  const rows = reports.flatMap((r) =>
    r.lines.map((l) => {
      const q = opsPerSecond(l.quotient);
      const raw = opsPerSecond(l.raw);
      return [l.operation, r.dialect, String(l.concurrency), fmt(q), fmt(raw), fmt(q / raw, 2)];
    }),
  );
  console.log('\nledger operations per second (higher is better; a reserve+commit pair counts as one):\n');
  console.log(indent(table(['operation', 'dialect', 'in flight', 'Quotient', 'raw driver', 'Quotient / raw'], rows, [false, false, true, true, true, true]), 2));
}

/** Returns false when the books do not balance or rows are missing. */
function checkBooks(r: DialectReport): boolean {
  const v = r.verify;
  const ok = v.problems.length === 0 && v.ledgerRows === r.expectedLedgerRows;
  console.log(
    `\n${r.dialect}: ledger.verify() ${ok ? 'passes' : 'FAILS'}: ${fmt(v.accounts)} accounts, ${fmt(v.ledgerRows)} ledger rows (expected ${fmt(r.expectedLedgerRows)}), ${v.problems.length} problems`,
  );
  for (const p of v.problems.slice(0, 20)) console.log(`  account ${p.accountId} (${p.name}): ${p.problem}`);
  return ok;
}

async function main(opts: BenchOptions): Promise<number> {
  console.log(`machine: ${machine()}`);
  console.log(`load average at start: ${os.loadavg().map((l) => fmt(l, 2)).join(' ')} (other work on the machine skews the figures)`);
  console.log(`ops per side per line: ${fmt(opts.ops)} (reserve+commit: ${fmt(pairsFor(opts.ops))} pairs), concurrent line: ${opts.concurrency} in flight`);
  const reports: DialectReport[] = [];
  const skipped: string[] = [];
  for (const dialect of opts.dialects) {
    const started = Date.now();
    const target = dialect === 'sqlite' ? await openSqlite() : await openMysql(opts.mysqlUrl, opts.concurrency);
    if ('skipped' in target) {
      skipped.push(`mysql skipped: ${target.skipped}`);
      console.log(`\nmysql skipped: ${target.skipped}`);
      continue;
    }
    try {
      const report = await benchDialect(target, opts);
      reports.push(report);
      printReport(report);
      console.log(`  (${dialect} run took ${fmt((Date.now() - started) / 1000, 1)} s)`);
    } finally {
      await target.close();
    }
  }
  if (reports.length > 0) printSummary(reports);
  let ok = true;
  for (const r of reports) ok = checkBooks(r) && ok;
  if (reports.length > 0) for (const s of skipped) console.log(s);
  return ok ? 0 : 1;
}

let options: BenchOptions & { help: boolean };
try {
  options = parseOptions(process.argv.slice(2), process.env);
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  console.error(`${err.message}\n${USAGE}`);
  process.exit(2);
}
if (options.help) {
  console.log(USAGE);
} else {
  main(options).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
