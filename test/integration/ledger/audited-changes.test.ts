/**
 * Changes people make to money are audited exactly once, in the primary's service, whoever asks:
 * `quotient balance adjust|set` and `quotient settings set` (run in-process) and the admin pages'
 * forms write the same rows through the same service methods; transfers and refund decisions
 * write theirs in the service too.
 */
import assert from 'node:assert/strict';
import { cliActor } from '../../../primary/cli/context';
import type { BalanceChanges } from '../../../primary/ledger/balance-changes';
import type { Services } from '../../../primary/services';
import { AdminPages } from '../../../web-tools/pages/admin-pages';
import { runCliInProcess } from '../../utils/cli';
import { describeOnEachDatabase } from '../../utils/databases';
import { jobDescription, servicesFor } from '../../utils/fixtures';

/** A command's exit code and its output as lines, as the assertions below read it. */
async function run(args: string[]): Promise<{ exitCode: number; stdout: string[]; stderr: string[] }> {
  const r = await runCliInProcess(args);
  const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '');
  return { exitCode: r.code, stdout: lines(r.stdout), stderr: lines(r.stderr) };
}

interface LedgerRow {
  id: number;
  type: string;
  amount: number;
  balanceAfter: number;
  actor: string;
  comment: string;
  key: string;
}

interface AuditRow {
  actor: string;
  action: string;
  targetType: string;
  targetId: string;
  details: Record<string, unknown>;
}

describeOnEachDatabase('audited changes, one service whoever calls it', (t) => {
  let s: Services;
  let annId: number;
  const db = (): string[] => ['--database-url', t.url, '--data-dir', t.dataDir];

  const ledger = async (type: string): Promise<LedgerRow[]> => {
    const rows = (await t.db.knex('ledger').where({ type }).orderBy('id')) as {
      id: number | string;
      type: string;
      amount: number | string;
      balance_after: number | string;
      actor: string;
      comment: string;
      idempotency_key: string;
    }[];
    return rows.map((r) => ({
      id: Number(r.id),
      type: r.type,
      amount: Number(r.amount),
      balanceAfter: Number(r.balance_after),
      actor: r.actor,
      comment: r.comment,
      key: r.idempotency_key,
    }));
  };
  const audit = async (...actions: string[]): Promise<AuditRow[]> => {
    const rows = (await t.db.knex('audit_log').whereIn('action', actions).orderBy('id')) as {
      actor: string;
      action: string;
      target_type: string;
      target_id: string;
      details: string;
    }[];
    return rows.map((r) => ({
      actor: r.actor,
      action: r.action,
      targetType: r.target_type,
      targetId: r.target_id,
      details: JSON.parse(r.details) as Record<string, unknown>,
    }));
  };
  const balanceOf = async (userId: number): Promise<number> => (await s.users.personalAccount(userId)).balance;

  /** Records every call of the service's adjust() and set(), then lets it run. */
  const spyOn = (balances: BalanceChanges): string[] => {
    const calls: string[] = [];
    const { adjust, set } = balances;
    balances.adjust = (change) => (calls.push(`adjust ${change.key}`), adjust.call(balances, change));
    balances.set = (change) => (calls.push(`set ${change.key}`), set.call(balances, change));
    return calls;
  };

  beforeEach(async () => {
    s = servicesFor(t.db);
    annId = (await s.users.createUser({ username: 'ann', password: 'ann-password-1', initialCredit: 1000 })).id;
  });

  describe('quotient balance adjust', () => {
    it('writes one adjustment row and one balance.adjust audit row, and nothing more when repeated with its key', async () => {
      const first = await run(['balance', 'adjust', 'ann', '2.50', '--comment', 'prize', '--key', 'cli-prize-1', ...db()]);
      assert.deepEqual(first, { exitCode: 0, stdout: ['ann: $2.50 → balance $12.50'], stderr: [] });
      const again = await run(['balance', 'adjust', 'ann', '2.50', '--comment', 'prize', '--key', 'cli-prize-1', ...db()]);
      assert.deepEqual(again.stdout, ['ann: $2.50 → balance $12.50 (already applied with this key; nothing changed)']);

      const rows = await ledger('adjustment');
      assert.deepEqual(
        rows.map((r) => [r.amount, r.balanceAfter, r.actor, r.comment, r.key]),
        [[250, 1250, cliActor(), 'prize', 'cli-prize-1']],
      );
      assert.deepEqual(await audit('balance.adjust'), [
        { actor: cliActor(), action: 'balance.adjust', targetType: 'user', targetId: 'ann', details: { amount: 250, comment: 'prize', ledgerId: rows[0]?.id } },
      ]);
      assert.equal(await balanceOf(annId), 1250);
    });

    it('sets a balance as one row for the difference, audited as balance.set', async () => {
      const r = await run(['balance', 'set', 'ann', '3.00', '--comment', 'reset', '--key', 'cli-reset-1', ...db()]);
      assert.deepEqual(r, { exitCode: 0, stdout: ['ann: -$7.00 → balance $3.00'], stderr: [] });
      const rows = await ledger('adjustment');
      assert.deepEqual(
        rows.map((x) => [x.amount, x.balanceAfter, x.actor, x.key]),
        [[-700, 300, cliActor(), 'cli-reset-1']],
      );
      assert.deepEqual(await audit('balance.set'), [
        { actor: cliActor(), action: 'balance.set', targetType: 'user', targetId: 'ann', details: { balance: 300, comment: 'reset', ledgerId: rows[0]?.id } },
      ]);
    });

    it('refuses an adjustment of zero, writing nothing', async () => {
      const r = await run(['balance', 'adjust', 'ann', '0', '--comment', 'nothing', ...db()]);
      assert.deepEqual(r, { exitCode: 1, stdout: [], stderr: ['error: an adjustment of zero changes nothing'] });
      assert.deepEqual([await ledger('adjustment'), await audit('balance.adjust')], [[], []]);
    });
  });

  describe('the admin user page', () => {
    it('adjusts and sets through the same service methods as the CLI, writing the same rows with the administrator as actor', async () => {
      const calls = spyOn(s.balances);
      const admin = new AdminPages({ services: s });
      await admin.adjustBalance(annId, 250, 'prize', 'form-key-0001', 'root');
      await admin.adjustBalance(annId, 250, 'prize', 'form-key-0001', 'root'); // the same form again
      await admin.setBalance(annId, 300, 'reset', 'form-key-0002', 'root');
      assert.deepEqual(calls, ['adjust web:adjust:form-key-0001', 'adjust web:adjust:form-key-0001', 'set web:set:form-key-0002']);

      const rows = await ledger('adjustment');
      assert.deepEqual(
        rows.map((r) => [r.amount, r.balanceAfter, r.actor, r.comment, r.key]),
        [
          [250, 1250, 'root', 'prize', 'web:adjust:form-key-0001'],
          [-950, 300, 'root', 'reset', 'web:set:form-key-0002'],
        ],
      );
      assert.deepEqual(await audit('balance.adjust', 'balance.set'), [
        { actor: 'root', action: 'balance.adjust', targetType: 'user', targetId: 'ann', details: { amount: 250, comment: 'prize', ledgerId: rows[0]?.id } },
        { actor: 'root', action: 'balance.set', targetType: 'user', targetId: 'ann', details: { balance: 300, comment: 'reset', ledgerId: rows[1]?.id } },
      ]);
      assert.deepEqual((await s.ledger.verify()).problems, []);
    });
  });

  describe('transfers (services.transfers)', () => {
    it('moves the amount as two rows with one balance.transfer audit row, the sender as actor', async () => {
      const bobId = (await s.users.createUser({ username: 'bob', password: 'bob-password-1', initialCredit: 500 })).id;
      await s.settings.set('transfers.enabled', true);
      const sent = await s.transfers.send(annId, { toUsername: 'bob', amount: 300, comment: 'lunch', formKey: 'xfer-form-0001' });
      await s.transfers.send(annId, { toUsername: 'bob', amount: 300, comment: 'lunch', formKey: 'xfer-form-0001' });
      assert.deepEqual(sent, { balanceAfter: 700, replayed: false });
      const rows = await ledger('transfer');
      assert.deepEqual(
        rows.map((r) => [r.amount, r.balanceAfter, r.actor, r.comment]),
        [
          [-300, 700, 'ann', 'ann → bob: lunch'],
          [300, 800, 'ann', 'ann → bob: lunch'],
        ],
      );
      assert.deepEqual(await audit('balance.transfer'), [
        {
          actor: 'ann',
          action: 'balance.transfer',
          targetType: 'user',
          targetId: 'bob',
          details: { amount: 300, comment: 'lunch', fromLedgerId: rows[0]?.id, toLedgerId: rows[1]?.id },
        },
      ]);
      assert.deepEqual([await balanceOf(annId), await balanceOf(bobId)], [700, 800]);
    });
  });

  describe('refund decisions (services.refunds)', () => {
    /** A printed 4-page greyscale job of ann's: 40 at the default card's 10 a page. */
    const printedJob = async (): Promise<number> => {
      const job = jobDescription({ pages: 4 });
      await s.printing.submit({ kind: 'authorize', secondary: 'print-1', job });
      await s.printing.submit({ kind: 'commit', secondary: 'print-1', jobId: job.jobId });
      return Number(((await t.db.knex('print_jobs').where({ job_uuid: job.jobId }).first('id')) as { id: number | string }).id);
    };
    const requestState = async (): Promise<unknown[]> => {
      const r = (await t.db.knex('refund_requests').first('state', 'decided_by', 'ledger_id')) as {
        state: string;
        decided_by: string;
        ledger_id: number | string | null;
      };
      return [r.state, r.decided_by, r.ledger_id === null ? null : Number(r.ledger_id)];
    };

    it('approves with one refund row, the request marked with it, and one refund.approve audit row; never twice', async () => {
      const jobId = await printedJob();
      await s.refunds.request(annId, jobId, 'jammed');
      const [request] = await s.refunds.list();
      assert.deepEqual([request?.username, request?.amount, request?.reason, request?.state], ['ann', 40, 'jammed', 'pending']);
      await s.refunds.approve(request?.id ?? 0, 'sorry', 'root');
      await assert.rejects(s.refunds.approve(request?.id ?? 0, 'sorry', 'root'), { code: 'INVALID_STATE' });
      const rows = await ledger('refund');
      assert.deepEqual(
        rows.map((r) => [r.amount, r.balanceAfter, r.actor, r.comment, r.key]),
        [[40, 1000, 'root', 'sorry', `refund:job:${jobId}`]],
      );
      assert.deepEqual(await requestState(), ['approved', 'root', rows[0]?.id]);
      assert.deepEqual(await audit('refund.approve', 'refund.reject'), [
        { actor: 'root', action: 'refund.approve', targetType: 'refund_request', targetId: String(request?.id), details: { comment: 'sorry' } },
      ]);
      assert.equal(await s.refunds.countPending(), 0);
    });

    it('rejects with no ledger row and one refund.reject audit row', async () => {
      const jobId = await printedJob();
      await s.refunds.request(annId, jobId, 'jammed');
      const [request] = await s.refunds.list();
      await s.refunds.reject(request?.id ?? 0, 'it printed', 'root');
      await assert.rejects(s.refunds.reject(request?.id ?? 0, 'it printed', 'root'), { code: 'INVALID_STATE' });
      assert.deepEqual(await ledger('refund'), []);
      assert.deepEqual(await requestState(), ['rejected', 'root', null]);
      assert.deepEqual(
        (await audit('refund.approve', 'refund.reject')).map((a) => [a.actor, a.action, a.details]),
        [['root', 'refund.reject', { comment: 'it printed' }]],
      );
      assert.equal(await balanceOf(annId), 960);
    });
  });

  describe('quotient settings set', () => {
    it('writes one settings.set audit row per change, as the settings page does, and none for a value that does not change', async () => {
      assert.deepEqual((await run(['settings', 'set', 'currency.symbol', '€', ...db()])).stdout, ['currency.symbol = "€"']);
      assert.deepEqual((await run(['settings', 'set', 'currency.symbol', '€', ...db()])).stdout, ['currency.symbol = "€"']);
      assert.deepEqual(await audit('settings.set'), [
        { actor: cliActor(), action: 'settings.set', targetType: 'setting', targetId: 'currency.symbol', details: { from: '$', to: '€' } },
      ]);
    });
  });
});
