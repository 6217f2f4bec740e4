/**
 * Entry point of `npm run bench`. Two suites run here, on SQLite and on MySQL/MariaDB in one run:
 * - ledger: ledger operations per second through Quotient and through the raw driver doing the
 *   same work; the ratio, the overhead breakdown;
 * - charge: the print charge path through a real primary's gRPC server (batched, streamed, one
 *   per call; latency at 1,000 jobs/s; the 25,000-job catch-up), against the raw driver, with
 *   the targets (bench/README.md) beside the figures.
 * and four run as their own scripts (bench/standalone.ts): page analysis, Squid ingestion, the
 * quota run and the web summary page.
 * Speed is never asserted, only printed (PASS/MISS is information): the run fails only if the
 * books do not balance (LedgerService.verify(), a missing or duplicated ledger row).
 */
import os from 'node:os';
import { printChargeReport, printChargeSummary, checkChargeBooks } from './charge.report';
import { benchCharge, type ChargeReport } from './charge.bench';
import { table, fmt, microsPerOp, opsPerSecond } from './harness';
import { benchDialect, pairsFor, type DialectReport } from './ledger.bench';
import { parseOptions, UsageError, USAGE, type BenchOptions } from './options';
import { openMysql, openSqlite, type BenchDatabase } from './setup';
import { runStandalone, STANDALONE_SUITES, type StandaloneSuite } from './standalone';

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
    console.log(
      `\n  why lockAccounts writes updated_at and not id (SET id = id was the lock until it was measured here); its plan adds: ${r.lock.plan.join('; ')}`,
    );
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
  console.log(
    indent(table(['operation', 'dialect', 'in flight', 'Quotient', 'raw driver', 'Quotient / raw'], rows, [false, false, true, true, true, true]), 2),
  );
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

function open(dialect: BenchOptions['dialects'][number], opts: BenchOptions): Promise<BenchDatabase | { skipped: string }> {
  return dialect === 'sqlite' ? openSqlite() : openMysql(opts.mysqlUrl, opts.concurrency);
}

async function main(opts: BenchOptions): Promise<number> {
  const ledger = opts.suites.includes('ledger');
  const charge = opts.suites.includes('charge');
  console.log(`machine: ${machine()}`);
  console.log(
    `load average at start: ${os
      .loadavg()
      .map((l) => fmt(l, 2))
      .join(' ')} (other work on the machine skews the figures)`,
  );
  if (ledger)
    console.log(
      `ledger: ops per side per line: ${fmt(opts.ops)} (reserve+commit: ${fmt(pairsFor(opts.ops))} pairs), concurrent line: ${opts.concurrency} in flight`,
    );
  if (charge) {
    const c = opts.charge;
    console.log(
      `charge: ${fmt(c.jobs.sqlite)} (SQLite) / ${fmt(c.jobs.mysql)} (MySQL) jobs per side per throughput line, ${fmt(c.batch)} events per batch, ${c.inFlight} calls in flight, ${fmt(c.rate)} jobs/s for ${c.latencySeconds} s, ${fmt(c.replayJobs)} jobs replayed`,
    );
  }
  const reports: DialectReport[] = [];
  const charges: ChargeReport[] = [];
  const skipped: string[] = [];
  for (const dialect of opts.dialects) {
    // Each suite gets a freshly migrated database, so each checks only its own books.
    for (const suite of opts.suites.filter((s) => s === 'ledger' || s === 'charge')) {
      const started = Date.now();
      const target = await open(dialect, opts);
      if ('skipped' in target) {
        skipped.push(`mysql skipped: ${target.skipped}`);
        console.log(`\nmysql skipped: ${target.skipped}`);
        break;
      }
      try {
        if (suite === 'ledger') {
          const report = await benchDialect(target, opts);
          reports.push(report);
          printReport(report);
        } else {
          const report = await benchCharge(target, target.sqliteFile !== undefined ? target.url : opts.mysqlUrl, opts.charge);
          charges.push(report);
          printChargeReport(report);
        }
        console.log(`  (${dialect} ${suite} run took ${fmt((Date.now() - started) / 1000, 1)} s)`);
      } finally {
        await target.close();
      }
    }
  }
  if (reports.length > 0) printSummary(reports);
  if (charges.length > 0) printChargeSummary(charges, opts.charge);
  let ok = true;
  for (const r of reports) ok = checkBooks(r) && ok;
  for (const r of charges) ok = checkChargeBooks(r) && ok;
  if (reports.length + charges.length > 0) for (const s of skipped) console.log(s);
  const standalone = opts.suites.filter((s): s is StandaloneSuite => (STANDALONE_SUITES as readonly string[]).includes(s));
  for (const suite of standalone) ok = (await runStandalone(suite, opts)) && ok;
  console.log(
    `\nload average at end: ${os
      .loadavg()
      .map((l) => fmt(l, 2))
      .join(' ')}`,
  );
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
