/**
 * Two primaries on one host, set up as docs/two-primaries.md says, from the files in
 * examples/two-primaries/: a print primary and a net primary (real `quotient primary`
 * processes, each on its own SQLite database, data directory, ports and generated cluster
 * secret), a print secondary bound to the print primary behind a private cupsd, and a proxy
 * secondary bound to the net primary tailing a private Squid's log (real `quotient secondary`
 * processes). Only the data directories, loopback addresses and free ports are overridden, by
 * the environment, as an operator could.
 *
 * One user, ann, has an account on both primaries. A job printed with `lp` charges exactly its
 * price to her print balance and nothing to her internet balance; browsing through Squid charges
 * exactly its price to her internet balance and nothing to her print balance. The $2 weekly
 * schedule on the print primary and the $10 monthly one on the net primary each pay only their
 * own primary's users, run by hand (`quotient quotas run-now`) and at their next period start
 * (the quota handler with a controllable clock). Each primary's web tools show that primary's
 * balance, and `quotient verify` passes on both.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadPrimaryConfig } from '../../primary/config';
import { openDatabase, type Database } from '../../primary/db/connection';
import { QuotaService } from '../../primary/quotas/quota-service';
import { runDueQuotas } from '../../primary/quotas/quota-job';
import { createServices, type Services } from '../../primary/services';
import { LocalEndpointClient } from '../../secondary/local-endpoint/client';
import { cupsUnavailable, freePort, makeDocument, startPrivateCups, startTestSink, type PrivateCups, type TestSink } from '../utils/cups';
import { runCliInProcess, type CliResult } from '../utils/cli';
import { ROOT, startCli, type ServerProcess } from '../utils/processes';
import { fetchVia, squidAvailable, startOrigin, startSquid, until, type RunningSquid } from './squid/squid-harness';

const EXAMPLES = path.join(ROOT, 'examples/two-primaries');
const MB = 1_048_576;
/** The net primary's price: 5 cents per MB (in thousandths of a cent). */
const NET_COST_PER_MB_MILLI = 5000;
const PASSWORD = 'ann-password-1234';

interface PrimaryUnderTest {
  readonly role: 'print' | 'net';
  readonly config: string;
  readonly dataDir: string;
  readonly httpPort: number;
  readonly env: NodeJS.ProcessEnv;
  process?: ServerProcess;
  db?: Database;
  services?: Services;
}

interface SecondaryUnderTest {
  readonly name: string;
  readonly socketPath: string;
  process?: ServerProcess;
}

function servicesOf(p: PrimaryUnderTest): Services {
  if (!p.services) throw new Error(`the ${p.role} primary is not running`);
  return p.services;
}

/** `quotient <args> --config <the example file>` against one primary, which must succeed. */
async function quotient(p: PrimaryUnderTest, args: string[]): Promise<CliResult> {
  const result = await runCliInProcess([...args, '--config', p.config], p.env);
  assert.equal(result.code, 0, `quotient ${args.join(' ')} on the ${p.role} primary: ${result.stderr}${result.stdout}`);
  return result;
}

async function balance(p: PrimaryUnderTest, username: string): Promise<number> {
  const s = servicesOf(p);
  return (await s.users.personalAccount((await s.users.getByUsername(username)).id)).balance;
}

async function balances(username: string, print: PrimaryUnderTest, net: PrimaryUnderTest): Promise<{ print: number; net: number }> {
  return { print: await balance(print, username), net: await balance(net, username) };
}

/** A user's ledger summed by row type (usage may arrive in several reports: one row each). */
async function ledgerTotals(p: PrimaryUnderTest, username: string): Promise<Record<string, number>> {
  const s = servicesOf(p);
  const account = await s.users.personalAccount((await s.users.getByUsername(username)).id);
  const rows = (await s.db.knex('ledger').where({ account_id: account.id }).groupBy('type').orderBy('type').select('type').sum({ total: 'amount' })) as {
    type: string;
    total: number | string;
  }[];
  return Object.fromEntries(rows.map((r) => [r.type, Number(r.total)]));
}

async function count(p: PrimaryUnderTest, table: string): Promise<number> {
  const row = (await servicesOf(p).db.knex(table).count({ n: '*' }).first()) as { n: number | string };
  return Number(row.n);
}

async function secondaryStatus(s: SecondaryUnderTest): Promise<{ registered: boolean; connected: boolean; outboxDepth: number }> {
  const client = await LocalEndpointClient.connect(s.socketPath, { timeoutMs: 5000 });
  try {
    const answer = await client.status();
    if (!answer.ok) throw new Error(`status of ${s.name}: ${JSON.stringify(answer)}`);
    return answer;
  } finally {
    client.close();
  }
}

/**
 * `quotient secondary --config <example>` bound to `primary`: its address, and the secret the
 * primary generated into <dataDir>/cluster-secret; resolves once it has registered.
 */
async function startSecondary(s: SecondaryUnderTest, config: string, primary: PrimaryUnderTest, extra: NodeJS.ProcessEnv = {}): Promise<void> {
  const dataDir = path.dirname(s.socketPath);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o755 });
  s.process = startCli(['secondary', '--config', path.join(ROOT, 'examples', config)], {
    QUOTIENT_PRIMARY: `127.0.0.1:${primary.env.QUOTIENT_GRPC_PORT ?? ''}`,
    QUOTIENT_CLUSTER_SECRET: fs.readFileSync(path.join(primary.dataDir, 'cluster-secret'), 'utf8').trim(),
    QUOTIENT_DATA_DIR: dataDir,
    QUOTIENT_HEARTBEAT_SECONDS: '1',
    ...extra,
  });
  await s.process.waitFor(/serving/, 30_000);
  await until(
    `${s.name} registered with the ${primary.role} primary`,
    async () => {
      const status = await secondaryStatus(s);
      return status.registered && status.connected ? true : undefined;
    },
    20_000,
  );
}

/** Signs in to a primary's web tools as a user and returns the balance their summary page shows. */
async function webBalance(httpPort: number, username: string, password: string): Promise<string> {
  const base = `http://127.0.0.1:${httpPort}`;
  const form = await fetch(`${base}/signin`);
  assert.equal(form.status, 200);
  const cookie = (form.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const csrf = /name="_csrf" value="([^"]*)"/.exec(await form.text())?.[1] ?? '';
  const signedIn = await fetch(`${base}/signin`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username, password, _csrf: csrf }).toString(),
    redirect: 'manual',
  });
  assert.equal(signedIn.status, 303, `sign-in as ${username} on port ${httpPort}`);
  const session = (signedIn.headers.getSetCookie().find((c) => c.startsWith('quotient_session=')) ?? '').split(';')[0] ?? '';
  const summary = await fetch(`${base}/`, { headers: { cookie: session } });
  assert.equal(summary.status, 200);
  return /id="balance">([^<]*)</.exec(await summary.text())?.[1] ?? '(no balance on the page)';
}

describe('two primaries on one host: print and internet balances kept apart (e2e)', function () {
  this.timeout(120_000);
  let root = '';
  let print: PrimaryUnderTest;
  let net: PrimaryUnderTest;
  let printSecondary: SecondaryUnderTest;
  let proxySecondary: SecondaryUnderTest;
  let cups: PrivateCups | undefined;
  let sink: TestSink | undefined;
  let squid: RunningSquid | undefined;
  let origin: Awaited<ReturnType<typeof startOrigin>> | undefined;
  const squidDir = (): string => path.join(root, 'squid');
  /** The proxy secondary tails the private Squid's log and reports every second. */
  const proxyEnv = (): NodeJS.ProcessEnv => ({ QUOTIENT_PROXY_ACCESS_LOG: path.join(squidDir(), 'access.log'), QUOTIENT_PROXY_REPORT_SECONDS: '1' });
  const browse = (user: string, bytes: number, n: string): ReturnType<typeof fetchVia> =>
    fetchVia((squid as RunningSquid).port, `http://paid.test:${origin?.port ?? 0}/bytes/${bytes}?n=${n}`, user);
  /** Sum of the requests a primary recorded for a user. */
  const requests = async (p: PrimaryUnderTest, username: string): Promise<number> => {
    const row = (await servicesOf(p).db.knex('internet_usage').where({ username }).sum({ n: 'requests' }).first()) as { n: number | string | null };
    return Number(row.n ?? 0);
  };

  before(async function () {
    const missing = [cupsUnavailable(), squidAvailable() ? undefined : 'squid is not installed'].filter((why) => why !== undefined);
    if (missing.length > 0) {
      // .ci/run installs CUPS and Squid; elsewhere the suite is skipped with the reason
      if (process.env.CI === 'true') throw new Error(`CUPS and Squid are required under CI: ${missing.join('; ')}`);
      console.log(`      (two-primaries test skipped: ${missing.join('; ')})`);
      this.skip();
    }
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'q2p-'));
    fs.chmodSync(root, 0o755); // cupsd's backend and Squid's helper reach the sockets in here

    const primaryUnderTest = async (role: 'print' | 'net'): Promise<PrimaryUnderTest> => {
      const dataDir = path.join(root, `${role}-primary`);
      const [httpPort, grpcPort] = [await freePort(), await freePort()];
      const env = {
        QUOTIENT_DATA_DIR: dataDir,
        QUOTIENT_HTTP_HOST: '127.0.0.1',
        QUOTIENT_HTTP_PORT: String(httpPort),
        QUOTIENT_GRPC_HOST: '127.0.0.1',
        QUOTIENT_GRPC_PORT: String(grpcPort),
        QUOTIENT_ADMIN_PASSWORD: 'admin-password-for-tests',
      };
      return { role, config: path.join(EXAMPLES, `${role}-primary.json`), dataDir, httpPort, env };
    };
    print = await primaryUnderTest('print');
    net = await primaryUnderTest('net');
    printSecondary = { name: 'print-1', socketPath: path.join(root, 'print-secondary/quotient.sock') };
    proxySecondary = { name: 'proxy-1', socketPath: path.join(root, 'proxy-secondary/quotient.sock') };
    fs.mkdirSync(squidDir());

    // Both primaries, as `quotient primary --config <example>`.
    await Promise.all(
      [print, net].map(async (p) => {
        p.process = startCli(['primary', '--config', p.config], p.env);
        await p.process.waitFor(/listening on/, 30_000);
        p.db = openDatabase('', p.dataDir);
        p.services = createServices(p.db);
      }),
    );

    await Promise.all([
      startSecondary(printSecondary, 'two-primaries/print-secondary.json', print),
      startSecondary(proxySecondary, 'two-primaries/proxy-secondary.json', net, proxyEnv()),
    ]);
    fs.chmodSync(proxySecondary.socketPath, 0o666); // Squid's helper runs as Squid's user

    // The print server: cupsd with the example's queue behind the Quotient backend.
    [cups, sink, origin] = await Promise.all([startPrivateCups({ env: { QUOTIENT_SOCKET: printSecondary.socketPath } }), startTestSink(), startOrigin()]);
    await cups.lpadmin(['-p', 'lab', '-E', '-v', `quotient:socket://127.0.0.1:${sink.port}`, '-m', 'raw', '-o', 'printer-error-policy=abort-job']);
    // The proxy server: Squid asking the proxy secondary's helper.
    squid = await startSquid(squidDir(), { socketPath: proxySecondary.socketPath, hosts: ['paid.test'] });

    // Users, as the README's commands create them: ann on both primaries; pat only on the print one, nina only on the net one.
    await Promise.all([
      (async () => {
        await quotient(print, ['groups', 'add', 'students']);
        await quotient(print, ['users', 'add', 'ann', '--group', 'students', '--restricted', '--initial-credit', '5.00', '--password', PASSWORD]);
        await quotient(print, ['users', 'add', 'pat', '--group', 'students', '--restricted']);
      })(),
      (async () => {
        await quotient(net, ['groups', 'add', 'students']);
        await quotient(net, ['users', 'add', 'ann', '--group', 'students', '--restricted', '--initial-credit', '20.00', '--password', PASSWORD]);
        await quotient(net, ['users', 'add', 'nina', '--group', 'students', '--restricted']);
        // The internet price, on the net primary.
        const price = await quotient(net, ['internet', 'set', 'costPerMb', '0.05']);
        assert.match(price.stdout, new RegExp(`^costPerMbMilli = ${NET_COST_PER_MB_MILLI} `, 'm'));
      })(),
    ]);
  });

  after(async () => {
    await squid?.stop();
    await cups?.stop();
    await sink?.close();
    await origin?.close();
    for (const s of [printSecondary, proxySecondary]) await s?.process?.stop();
    for (const p of [print, net]) {
      await p?.process?.stop();
      await p?.db?.close();
    }
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('registers each secondary with its own primary only', async () => {
    const registered = async (p: PrimaryUnderTest): Promise<string[][]> =>
      ((await servicesOf(p).db.knex('secondaries').orderBy('name').select('name', 'role')) as { name: string; role: string }[]).map((r) => [r.name, r.role]);
    assert.deepEqual(await registered(print), [['print-1', 'print']]);
    assert.deepEqual(await registered(net), [['proxy-1', 'proxy']]);
  });

  it('charges a job printed with lp to the print balance only: 3 pages at 10 cents', async () => {
    assert.deepEqual(await balances('ann', print, net), { print: 500, net: 2000 });
    const pdf = await makeDocument(root, 'pdf', 3);
    const id = await (cups as PrivateCups).lp(['-d', 'lab', '-U', 'ann', '-t', 'report.pdf', pdf]);
    const job = await (cups as PrivateCups).waitForJob(id, ['completed', 'aborted', 'canceled']);
    assert.equal(job.state, 'completed', (cups as PrivateCups).jobLog(id));
    await until('the print outbox drained', async () => ((await secondaryStatus(printSecondary)).outboxDepth === 0 ? true : undefined));

    assert.deepEqual(await balances('ann', print, net), { print: 500 - 30, net: 2000 });
    assert.deepEqual(await ledgerTotals(print, 'ann'), { initial: 500, print: -30 });
    assert.deepEqual(await ledgerTotals(net, 'ann'), { initial: 2000 });
    assert.deepEqual([await count(print, 'print_jobs'), await count(net, 'print_jobs')], [1, 0]);
    assert.equal(sink?.received.length, 1);
  });

  it('charges browsing through Squid to the internet balance only: 4 MB at 5 cents', async () => {
    for (let i = 0; i < 4; i++) {
      const answer = await browse('ann', MB, `two-${i}`);
      assert.deepEqual([answer.status, answer.bytes], [200, MB]);
    }
    await until('4 requests of ann charged on the net primary', async () => ((await requests(net, 'ann')) === 4 ? true : undefined), 20_000);

    // Replies carry a few hundred header bytes each: 4 MB + ~1 kB at 5 cents/MB rounds to 20 cents.
    assert.deepEqual(await balances('ann', print, net), { print: 470, net: 2000 - 20 });
    assert.deepEqual(await ledgerTotals(net, 'ann'), { initial: 2000, net: -20 });
    assert.deepEqual(await ledgerTotals(print, 'ann'), { initial: 500, print: -30 });
    assert.deepEqual([await count(print, 'internet_usage'), (await count(net, 'internet_usage')) > 0], [0, true]);
  });

  it('pays $2 a week from the print primary and $10 a month from the net primary, each to its own users only', async () => {
    await Promise.all([
      quotient(print, ['quotas', 'add', 'print-weekly', '--group', 'students', '--period', 'weekly', '--weekday', 'mon', '--amount', '2.00']),
      quotient(net, ['quotas', 'add', 'net-monthly', '--group', 'students', '--period', 'monthly', '--day', '1', '--amount', '10.00']),
    ]);
    const before = { ann: await balances('ann', print, net), pat: await balance(print, 'pat'), nina: await balance(net, 'nina') };
    assert.deepEqual(before, { ann: { print: 470, net: 1980 }, pat: 0, nina: 0 });

    // By hand, for the current period: each run pays its own two students.
    const weekly = await quotient(print, ['quotas', 'run-now', 'print-weekly']);
    assert.match(weekly.stdout, /print-weekly for period .*: done, 2 user\(s\), \$4\.00/);
    assert.deepEqual(await balances('ann', print, net), { print: 670, net: 1980 });
    assert.equal(await balance(print, 'pat'), 200);
    assert.equal(await balance(net, 'nina'), 0);

    const monthly = await quotient(net, ['quotas', 'run-now', 'net-monthly']);
    assert.match(monthly.stdout, /net-monthly for period .*: done, 2 user\(s\), \$20\.00/);
    assert.deepEqual(await balances('ann', print, net), { print: 670, net: 2980 });
    assert.deepEqual([await balance(print, 'pat'), await balance(net, 'nina')], [200, 1000]);

    // On the timetable: the quota handler at each schedule's next period start (a controllable clock).
    for (const p of [print, net]) {
      const config = loadPrimaryConfig({ file: p.config, env: {} });
      const clock = { now: Date.now() };
      const quotas = new QuotaService({ db: servicesOf(p).db, timezone: config.timezone, catchUpDays: config.quotaCatchUpDays, now: () => clock.now });
      const [schedule] = await quotas.list();
      assert.ok(schedule, `a schedule on the ${p.role} primary`);
      clock.now = (quotas.nextRuns(schedule, 1)[0] ?? 0) + 60_000; // the minute tick after the period starts
      const runs = await runDueQuotas(quotas);
      assert.deepEqual(
        runs.map((r) => [r.schedule, r.reason, r.users, r.total]),
        [[schedule.name, 'schedule', 2, schedule.amount * 2]],
      );
    }
    assert.deepEqual(await balances('ann', print, net), { print: 870, net: 3980 });
    assert.deepEqual([await balance(print, 'pat'), await balance(net, 'nina')], [400, 2000]);
    assert.deepEqual(await ledgerTotals(print, 'ann'), { initial: 500, print: -30, quota: 400 });
    assert.deepEqual(await ledgerTotals(net, 'ann'), { initial: 2000, net: -20, quota: 2000 });
  });

  it("shows each primary's own balance in its own web tools", async () => {
    assert.equal(await webBalance(print.httpPort, 'ann', PASSWORD), '$8.70');
    assert.equal(await webBalance(net.httpPort, 'ann', PASSWORD), '$39.80');
  });

  it('shares one balance when both secondaries report to one primary (examples/single-primary)', async () => {
    // The proxy secondary moves to the print primary, keeping its data directory (so its read
    // offset in Squid's log) and its socket: the print primary now charges printing and browsing.
    await proxySecondary.process?.stop();
    await startSecondary(proxySecondary, 'single-primary/proxy-secondary.json', print, proxyEnv());
    fs.chmodSync(proxySecondary.socketPath, 0o666);
    await quotient(print, ['internet', 'set', 'costPerMb', '0.05']);
    // Squid's helper reconnects on the first request after the restart (answering "deny" until then).
    await until('Squid lets ann through again', async () => ((await browse('ann', 10, 'probe')).status === 200 ? true : undefined));
    for (let i = 0; i < 2; i++) assert.equal((await browse('ann', MB, `one-${i}`)).status, 200);
    await until('the requests of ann charged on the print primary', async () => ((await requests(print, 'ann')) === 3 ? true : undefined), 20_000);
    const pdf = await makeDocument(root, 'pdf', 1);
    const id = await (cups as PrivateCups).lp(['-d', 'lab', '-U', 'ann', pdf]);
    assert.equal((await (cups as PrivateCups).waitForJob(id, ['completed', 'aborted', 'canceled'])).state, 'completed', (cups as PrivateCups).jobLog(id));
    await until('the print outbox drained', async () => ((await secondaryStatus(printSecondary)).outboxDepth === 0 ? true : undefined));

    // 2 MB (and a 10-byte probe) at 5 cents/MB = 10 cents, and 1 page at 10 cents, from the one balance.
    assert.deepEqual(await balances('ann', print, net), { print: 870 - 10 - 10, net: 3980 });
    assert.deepEqual(await ledgerTotals(print, 'ann'), { initial: 500, net: -10, print: -40, quota: 400 });
    assert.deepEqual(await ledgerTotals(net, 'ann'), { initial: 2000, net: -20, quota: 2000 });
    const registered = (await servicesOf(print).db.knex('secondaries').orderBy('name').select('name')) as { name: string }[];
    assert.deepEqual(
      registered.map((r) => r.name),
      ['print-1', 'proxy-1'],
    );
  });

  it('verifies the books of both primaries', async () => {
    const results = await Promise.all([print, net].map((p) => runCliInProcess(['verify', '--config', p.config], p.env)));
    assert.deepEqual(
      results.map((r) => r.code),
      [0, 0],
      results.map((r) => r.stdout + r.stderr).join('\n'),
    );
  });
});
