/**
 * A primary and two secondaries as real processes; thousands of jobs sent through the
 * secondaries' sockets as the CUPS backend would; the primary killed with SIGKILL mid-stream and
 * restarted; a secondary killed and restarted. Afterwards every job is charged exactly once at
 * its exact price, the books verify, restricted users are within their limits, and the outboxes
 * are empty.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeOnEachDatabase } from '../utils/databases';
import { accountFor, servicesFor } from '../utils/fixtures';
import { freePort } from '../utils/ports';
import { runCliInProcess } from '../utils/cli';
import { startCli, type ServerProcess } from '../utils/processes';
import { TEST_SECRET } from '../utils/primary';
import { until } from '../utils/until';
import { LocalEndpointClient } from '../../secondary/local-endpoint/client';

const JOBS_PER_SECONDARY = 1500;
const WORKERS_PER_SECONDARY = 12;
const RESTRICTED_CREDIT = 500;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Planned {
  jobId: string;
  username: string;
  restricted: boolean;
  pages: number;
  /** The backend reports fewer pages than analysed (a jam) for some jobs. */
  printedPages?: number;
  /** The backend fails: the job is released. */
  fails: boolean;
  /** Sent to the queue whose failure mode is "deny" (jobs of unrestricted users only). */
  denyQueue?: boolean;
}

interface Done {
  job: Planned;
  /** The attempt the secondary answered for (the wrapper commits or releases it): the job id, or `<id>#2`... */
  attemptId: string;
  printed: boolean;
  /** What the ledger must hold for it (0 when not printed). */
  cost: number;
}

describeOnEachDatabase('cluster under SIGKILL', (t) => {
  it('charges every job exactly once across a primary and a secondary being killed', async function () {
    this.timeout(300_000);
    const s = servicesFor(t.db);
    const restricted = Array.from({ length: 8 }, (_, i) => `r${i}`);
    const unrestricted = Array.from({ length: 8 }, (_, i) => `u${i}`);
    for (const u of restricted) await accountFor(s, { username: u, restricted: true, initialCredit: RESTRICTED_CREDIT, creditLimit: 0 });
    for (const u of unrestricted) await accountFor(s, { username: u, restricted: false });
    // Restricted users print on a queue that holds jobs while the primary is away (never unchecked);
    // the others on one that prints and charges later.
    for (const secondary of ['print-a', 'print-b']) {
      for (const [queue, mode] of [
        ['q-hold', 'hold'],
        ['q-later', 'charge_later'],
        ['q-deny', 'deny'],
      ] as const) {
        const printer = await s.printers.resolve(secondary, queue);
        await t.db.knex('printers').where({ id: printer.id }).update({ failure_mode: mode });
      }
    }

    const grpcPort = await freePort();
    const primaryEnv = {
      QUOTIENT_DATABASE_URL: t.url,
      QUOTIENT_DATA_DIR: t.dataDir,
      QUOTIENT_HTTP_HOST: '127.0.0.1',
      QUOTIENT_HTTP_PORT: '0',
      QUOTIENT_GRPC_HOST: '127.0.0.1',
      QUOTIENT_GRPC_PORT: String(grpcPort),
      QUOTIENT_CLUSTER_SECRET: TEST_SECRET,
      QUOTIENT_ADMIN_PASSWORD: 'admin-password-for-tests',
    };
    const startPrimary = async (): Promise<ServerProcess> => {
      const p = startCli(['primary'], primaryEnv);
      await p.waitFor(/listening on/);
      return p;
    };
    const secondaryDirs: Record<string, string> = {};
    const startSecondary = async (name: string): Promise<ServerProcess> => {
      secondaryDirs[name] ??= fs.mkdtempSync(path.join(os.tmpdir(), `quotient-${name}-`));
      const p = startCli(['secondary', '--primary', `127.0.0.1:${grpcPort}`, '--name', name, '--role', 'print', '--data-dir', secondaryDirs[name]], {
        QUOTIENT_CLUSTER_SECRET: TEST_SECRET,
      });
      await p.waitFor(/serving/);
      return p;
    };
    const socketOf = (name: string): string => path.join(secondaryDirs[name] ?? '', 'quotient.sock');

    let primary = await startPrimary();
    const secondaries: Record<string, ServerProcess> = { 'print-a': await startSecondary('print-a'), 'print-b': await startSecondary('print-b') };
    const running: ServerProcess[] = [];
    const track = (): void => {
      running.length = 0;
      running.push(primary, ...Object.values(secondaries));
    };
    track();

    try {
      // The plan: deterministic jobs, so the expected books can be computed.
      const plans: Record<string, Planned[]> = {};
      for (const name of ['print-a', 'print-b']) {
        plans[name] = Array.from({ length: JOBS_PER_SECONDARY }, (_, i) => {
          const isRestricted = i % 2 === 0;
          const username = isRestricted ? (restricted[i % restricted.length] ?? 'r0') : (unrestricted[i % unrestricted.length] ?? 'u0');
          const pages = 1 + (i % 5);
          return {
            jobId: `urn:uuid:${name}-${i}`,
            username,
            restricted: isRestricted,
            pages,
            ...(i % 7 === 3 && pages > 1 ? { printedPages: pages - 1 } : {}),
            fails: i % 11 === 5,
            // Some jobs of unrestricted users go to a printer that refuses jobs while the primary is
            // away: one authorised just before a kill, its answer lost, is denied locally and must
            // not stay held (issue 14).
            ...(!isRestricted && i % 13 === 7 ? { denyQueue: true } : {}),
          };
        });
      }

      let completed = 0;
      let printedOffline = 0;
      const total = 2 * JOBS_PER_SECONDARY;
      const done: Done[] = [];

      /** One step against a secondary, retried across its restarts as CUPS would retry the job. */
      async function step<T>(name: string, client: { c?: LocalEndpointClient }, work: (c: LocalEndpointClient) => Promise<T>): Promise<T> {
        for (;;) {
          try {
            client.c ??= await LocalEndpointClient.connect(socketOf(name), { timeoutMs: 20_000 });
            return await work(client.c);
          } catch {
            client.c?.close();
            delete client.c;
            await sleep(100);
          }
        }
      }

      async function worker(name: string, queue: Planned[]): Promise<void> {
        const client: { c?: LocalEndpointClient } = {};
        for (let job = queue.shift(); job; job = queue.shift()) {
          const j = job;
          let answer;
          for (;;) {
            answer = await step(name, client, (c) =>
              c.authorize({
                jobId: j.jobId,
                queue: j.restricted ? 'q-hold' : j.denyQueue ? 'q-deny' : 'q-later',
                username: j.username,
                documentName: 'doc.pdf',
                pages: j.pages,
              }),
            );
            if (answer.ok && answer.decision === 'hold') {
              await sleep(200); // CUPS retries a held job later
              continue;
            }
            break;
          }
          assert.ok(answer.ok, `authorize failed: ${JSON.stringify(answer)}`);
          // As the backend wrapper does: commit or release the attempt the answer names (a job held
          // while the primary was away and retried is a new attempt once its hold was released).
          const attemptId = answer.jobId || j.jobId;
          if (answer.decision !== 'allow') {
            done.push({ job: j, attemptId, printed: false, cost: 0 });
          } else if (j.fails) {
            const r = await step(name, client, (c) => c.release(attemptId, 'backend failed'));
            assert.ok(r.ok, JSON.stringify(r));
            done.push({ job: j, attemptId, printed: false, cost: 0 });
          } else {
            const r = await step(name, client, (c) => c.commit(attemptId, j.printedPages));
            assert.ok(r.ok, JSON.stringify(r));
            done.push({ job: j, attemptId, printed: true, cost: 10 * (j.printedPages ?? j.pages) });
            if (answer.reason !== '') printedOffline++; // allowed without the primary: the reason is for the log
          }
          completed++;
        }
        client.c?.close();
      }

      const chaos = (async () => {
        while (completed < total * 0.3) await sleep(20);
        await primary.stop('SIGKILL');
        // The outage lasts until the secondaries have printed jobs on their own. Not many: a worker
        // whose next job is a restricted user's waits on its hold until the primary is back.
        await until('4 jobs printed while the primary is down', () => (printedOffline >= 4 ? true : undefined), 60_000);
        primary = await startPrimary();
        track();
        while (completed < total * 0.6) await sleep(20);
        await secondaries['print-a']?.stop('SIGKILL');
        secondaries['print-a'] = await startSecondary('print-a');
        track();
      })();

      const work = ['print-a', 'print-b'].flatMap((name) => {
        const queue = [...(plans[name] ?? [])];
        return Array.from({ length: WORKERS_PER_SECONDARY }, () => worker(name, queue));
      });
      await Promise.all([...work, chaos]);
      assert.equal(done.length, total);

      // Wait for both outboxes to drain into the primary.
      for (const name of ['print-a', 'print-b']) {
        const client = await LocalEndpointClient.connect(socketOf(name));
        const deadline = Date.now() + 60_000;
        for (;;) {
          const st = await client.status();
          assert.ok(st.ok);
          if (st.ok && 'outboxDepth' in st && st.outboxDepth === 0 && st.connected) {
            assert.equal(st.deadLetters, 0, `${name} dead-lettered events`);
            assert.equal(st.offlineJobs, 0, `${name} still remembers offline jobs`);
            break;
          }
          assert.ok(Date.now() < deadline, `${name} outbox did not drain: ${JSON.stringify(st)}`);
          await sleep(100);
        }
        client.close();
      }

      // Every printed job has exactly one ledger row at its exact price; nothing else was charged.
      const rows = (await t.db.knex('ledger').where({ type: 'print' }).select('idempotency_key', 'amount')) as {
        idempotency_key: string;
        amount: number | string;
      }[];
      const charged = new Map(rows.map((r) => [r.idempotency_key, -Number(r.amount)]));
      assert.equal(rows.length, charged.size, 'a job was charged twice');
      const printed = done.filter((d) => d.printed);
      for (const d of printed) assert.equal(charged.get(`print:${d.attemptId}`), d.cost, `job ${d.attemptId}`);
      assert.equal(charged.size, printed.length, 'a job that did not print was charged');
      // Unrestricted users print on "charge later": every job of theirs that did not fail printed,
      // through the outage too. Restricted users printed until their credit ran out, never past it.
      const expectUnrestricted = done.filter((d) => !d.job.restricted && !d.job.fails && !d.job.denyQueue).length;
      assert.equal(printed.filter((d) => !d.job.restricted && !d.job.denyQueue).length, expectUnrestricted);
      assert.ok(
        printed.some((d) => d.job.restricted),
        'no restricted job printed',
      );
      assert.ok(
        done.some((d) => d.job.restricted && !d.job.fails && !d.printed),
        'no restricted job was denied',
      );

      // The outage really happened mid-stream: some jobs printed while the primary was down.
      const offline = await t.db.knex('print_jobs').where({ reason: 'printed while the primary was unreachable' }).count({ n: '*' }).first();
      assert.ok(Number(offline?.n) > 0, 'no job was printed during the outage');

      // No reservation is left held, nor a job authorised (the outboxes are empty, so every job
      // that did not print has reached the primary as a release); the books verify; restricted
      // users are within their limits.
      const held = await t.db.knex('reservations').where({ state: 'held' }).select('idempotency_key');
      assert.deepEqual(held, []);
      const authorised = await t.db.knex('print_jobs').where({ status: 'authorised' }).select('job_uuid');
      assert.deepEqual(authorised, []);
      for (const u of restricted) {
        const user = await s.users.getByUsername(u);
        const account = await s.users.personalAccount(user.id);
        const spent = printed.filter((d) => d.job.username === u).reduce((sum, d) => sum + d.cost, 0);
        assert.equal(account.balance, RESTRICTED_CREDIT - spent, u);
        assert.ok(account.balance >= 0, `${u} went below the limit: ${account.balance}`);
      }
      const verify = await runCliInProcess(['verify'], { QUOTIENT_DATABASE_URL: t.url, QUOTIENT_DATA_DIR: t.dataDir });
      assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    } finally {
      await Promise.all(running.map((p) => p.stop('SIGTERM')));
    }
  });
});
