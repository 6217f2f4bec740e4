/**
 * Internet charging end to end with a real Squid: a primary (each dialect), a proxy secondary
 * tailing Squid's log, Squid asking the secondary's ACL helper, a loopback origin, and users
 * browsing through the proxy. Exact charges, zero-rated domain, block and unblock, and a log
 * rotation mid-test that loses and duplicates nothing.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { RunningPrimary } from '../../../primary/boot';
import type { RunningSecondary } from '../../../secondary/daemon';
import { describeEndToEnd } from '../../utils/databases';
import { startTestPrimary } from '../../utils/primary';
import { parseSquidLine } from '../../../secondary/proxy/squid-log-parser';
import { startTestSecondary } from '../../utils/secondary';
import { fetchVia, squidAvailable, startOrigin, startSquid, until, type RunningSquid } from './squid-harness';

const MB = 1_048_576;
const PER_MB = 10; // minor units

describeEndToEnd('Squid proxy secondary (e2e)', (t) => {
  let primary: RunningPrimary;
  let secondary: RunningSecondary;
  let squid: RunningSquid;
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  let n = 0;

  before(async function () {
    if (!squidAvailable()) {
      if (process.env.CI === 'true') throw new Error('squid is not installed');
      this.skip();
    }
    this.timeout(60_000);
    primary = await startTestPrimary(t);
    const dir = path.join(t.dataDir, 'proxy');
    fs.mkdirSync(dir, { recursive: true });
    fs.chmodSync(t.dataDir, 0o755);
    fs.chmodSync(dir, 0o777);
    origin = await startOrigin();
    secondary = await startTestSecondary(primary.grpcPort, path.join(dir, 'secondary'), {
      name: 'proxy-1',
      flags: { role: 'proxy', proxyAccessLog: path.join(dir, 'access.log'), proxyReportSeconds: 1 },
    });
    fs.chmodSync(path.join(dir, 'secondary'), 0o755);
    fs.chmodSync(secondary.socketPath, 0o666); // Squid's helper runs as Squid's user
    await secondary.whenSynced();
    squid = await startSquid(dir, { socketPath: secondary.socketPath, hosts: ['paid.test', 'free.test', 'www.free.test'] });
  });

  after(async () => {
    await squid?.stop();
    await secondary?.shutdown();
    await primary?.shutdown();
    await origin?.close();
  });

  const setUp = async (): Promise<void> => {
    const s = primary.services;
    await s.internetSettings.set({ costPerMbMilli: PER_MB * 1000, zeroRatedDomains: ['free.test'] });
    await s.users.createUser({ username: 'ann', restricted: true, initialCredit: 10_000 });
    await s.users.createUser({ username: 'bob', restricted: true, initialCredit: 25 });
    await s.users.createUser({ username: 'José Müller', restricted: true, initialCredit: 1000 });
  };

  const get = (user: string, host: string, bytes: number) => fetchVia(squid.port, `http://${host}:${origin.port}/bytes/${bytes}?n=${n++}`, user);
  const balance = async (username: string): Promise<number> =>
    (await primary.services.users.personalAccount((await primary.services.users.getByUsername(username)).id)).balance;
  const usage = async (username: string): Promise<{ requests: number; bytes: number }> => {
    const row = (await t.db
      .knex('internet_usage')
      .where({ username })
      .first(t.db.knex.raw('COALESCE(SUM(requests), 0) AS requests'), t.db.knex.raw('COALESCE(SUM(bytes_in), 0) AS bytes'))) as {
      requests: number | string;
      bytes: number | string;
    };
    return { requests: Number(row.requests), bytes: Number(row.bytes) };
  };
  const requestsReach = (username: string, count: number) =>
    until(
      `${count} requests of ${username} reported`,
      async () => {
        const u = await usage(username);
        if (u.requests > count) throw new Error(`${u.requests} requests recorded for ${username}, expected ${count}`);
        return u.requests === count ? u : undefined;
      },
      15_000,
    );

  // One scenario in steps: describeEndToEnd empties every table before each test.
  it('charges exact prices, frees a zero-rated domain, survives a rotation, and blocks and unblocks a user who runs out', async function () {
    this.timeout(120_000);
    await setUp();
    // 1. Exact charges; a zero-rated domain (and a name under it) is free.
    for (let i = 0; i < 3; i++) assert.equal((await get('ann', 'paid.test', MB)).bytes, MB);
    for (let i = 0; i < 2; i++) assert.equal((await get('ann', 'www.free.test', 5 * MB)).status, 200);
    const u = await requestsReach('ann', 5);
    // Reply sizes include headers: a few hundred bytes per request on top of the bodies.
    assert.ok(u.bytes >= 13 * MB && u.bytes < 13 * MB + 5 * 1000, `bytes ${u.bytes}`);
    assert.equal(await balance('ann'), 10_000 - 3 * PER_MB);
    const net = (await t.db.knex('ledger').where({ type: 'net' }).select('amount')) as { amount: number | string }[];
    assert.equal(
      net.reduce((sum, r) => sum + Number(r.amount), 0),
      -3 * PER_MB,
    );

    // 2. A user name with a space and non-ASCII letters is charged to that user.
    assert.equal((await get('José Müller', 'paid.test', 2 * MB)).status, 200);
    await requestsReach('josé müller', 1);
    assert.equal(await balance('José Müller'), 1000 - 2 * PER_MB);

    // 3. Rotating the log mid-stream loses and duplicates nothing.
    for (let i = 0; i < 2; i++) await get('ann', 'paid.test', MB);
    squid.rotate();
    await until('rotated log', () => (fs.existsSync(`${squid.accessLog}.0`) ? true : undefined));
    for (let i = 0; i < 2; i++) await get('ann', 'paid.test', MB);
    await requestsReach('ann', 9);
    assert.equal(await balance('ann'), 10_000 - 7 * PER_MB);

    // 4. A user who runs out is blocked (403 with the reason) within seconds, and let back after a top-up.
    for (let i = 0; i < 3; i++) assert.equal((await get('bob', 'paid.test', MB)).status, 200);
    const ranOut = Date.now(); // the request that used up bob's credit has been answered
    await requestsReach('bob', 3);
    assert.equal(await balance('bob'), 25 - 3 * PER_MB);
    // Waits longer than the bound, so a block that comes late fails on the bound with its time.
    const denied = await until(
      'bob blocked',
      async () => {
        const a = await get('bob', 'paid.test', 10);
        return a.status === 403 ? a : undefined;
      },
      20_000,
    );
    const blockedAfterMs = Date.now() - ranOut;
    // One report interval (1 s), the tail poll, the report, the push on Watch, the helper's answer.
    assert.ok(blockedAfterMs < 5000, `bob was blocked ${blockedAfterMs} ms after running out; expected within 5 s`);
    const reason = /<p id="quotient-reason">([^<]*)<\/p>/.exec(denied.body)?.[1];
    assert.equal(reason, 'no credit left', `the 403 page shows why: ${denied.body.slice(0, 500)}`);

    const bob = await primary.services.users.getByUsername('bob');
    const account = await primary.services.users.personalAccount(bob.id);
    await primary.services.ledger.credit({ accountId: account.id, amount: 100, type: 'adjustment', key: 'bob-topup' });
    await until('bob unblocked', async () => ((await get('bob', 'paid.test', 10)).status === 200 ? true : undefined), 5000);
    // The refused requests cost nothing: 3 MB, then the small successful request(s) round to 0 with the carry.
    assert.equal(await balance('bob'), 25 - 3 * PER_MB + 100);
  });

  // Squid sends the name to the helper as the snippet's %#LOGIN escapes it; the helper must read
  // back the very user the primary blocked, not a neighbour (issue 14, item 2).
  it('blocks users whose names hold a space, %, +, a domain or non-ASCII letters, and lets look-alike names browse', async function () {
    this.timeout(60_000);
    const s = primary.services;
    await s.internetSettings.set({ costPerMbMilli: PER_MB * 1000, zeroRatedDomains: [] });
    // Restricted with nothing left: blocked the moment they exist.
    const blocked = ['José Müller', 'a%41b', '100%', 'a+b', 'DOM\\jsmith', 'jsmith@realm.test', 'Élodie', 'Zoë Ng'];
    // What a wrong decoding would look up instead, and names with the same characters: all may browse.
    const free = ['José', 'aab', 'a b', 'jsmith', 'elodie', 'r%d', 'zoë', 'ng'];
    for (const username of blocked) await s.users.createUser({ username, restricted: true, initialCredit: 0 });
    for (const username of free) await s.users.createUser({ username, restricted: true, initialCredit: 1000 });
    const stored = blocked.map((name) => name.normalize('NFC').toLowerCase());
    await until(
      'every block pushed to the secondary',
      () => (stored.every((name) => secondary.control.blockedReason(name) !== undefined) ? true : undefined),
      10_000,
    );

    // Zoë Ng is sent decomposed (e + U+0308), as some clients do; the primary stores NFC.
    const sent = (name: string): string => (name === 'Zoë Ng' ? name.normalize('NFD') : name);
    for (const name of blocked) {
      const answer = await get(sent(name), 'paid.test', 10);
      assert.equal(answer.status, 403, `${name} is blocked`);
      assert.equal(/<p id="quotient-reason">([^<]*)<\/p>/.exec(answer.body)?.[1], 'no credit left', `${name} sees why: ${answer.body.slice(0, 300)}`);
    }
    for (const name of free) assert.equal((await get(name, 'paid.test', MB)).status, 200, `${name} browses`);
    // And the log side names the same users: each look-alike's request is charged to it.
    for (const name of free) await requestsReach(name.toLowerCase(), 1);
    for (const name of free) assert.equal(await balance(name), 1000 - PER_MB, `${name} is charged for its own megabyte`);
    for (const name of blocked) assert.equal((await usage(name.normalize('NFC').toLowerCase())).requests, 0, `${name}'s refused requests are not usage`);

    // Squid's native format quotes names its own way (spaces left as they are, a backslash
    // doubled): read from its own log, every request is still its user's, and no line is bad.
    const readNative = (): ReturnType<typeof parseSquidLine>[] =>
      fs
        .readFileSync(squid.nativeLog, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map(parseSquidLine);
    const usersIn = (lines: ReturnType<typeof parseSquidLine>[]): Set<string> => new Set(lines.flatMap((p) => (p.kind === 'usage' ? [p.username] : [])));
    const native = await until(
      'every look-alike in the native log',
      () => {
        const lines = readNative();
        return free.every((name) => usersIn(lines).has(name.toLowerCase())) ? lines : undefined;
      },
      5000,
    ).catch(() => readNative());
    assert.deepEqual(
      native.filter((p) => p.kind === 'bad'),
      [],
    );
    const nativeUsers = usersIn(native);
    for (const name of free) assert.ok(nativeUsers.has(name.toLowerCase()), `${name} in the native log: ${[...nativeUsers].join(', ')}`);
    for (const name of blocked) assert.ok(!nativeUsers.has(name.normalize('NFC').toLowerCase()), `${name} browsed nothing`);
  });
});
