import assert from 'node:assert/strict';
import { createLogger } from '../../../common/logger';
import { schedule } from '../../../primary/quotas/quota-job';
import type { QuotaService } from '../../../primary/quotas/quota-service';

/** A stand-in for QuotaService: counts calls to the handler's one dependency. */
function fakeQuotas(): { quotas: QuotaService; calls: () => number; release: () => void } {
  let calls = 0;
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const quotas = {
    timezone: 'UTC',
    runDue: async () => {
      calls++;
      await gate;
      return [];
    },
  } as unknown as QuotaService;
  return { quotas, calls: () => calls, release };
}

describe('quota job schedule()', () => {
  const logger = createLogger('test', 'silent');

  it('refuses an invalid cron expression', () => {
    const { quotas } = fakeQuotas();
    assert.throws(() => schedule({ quotas, logger, expression: 'every minute' }), /not a valid cron expression/);
  });

  it('runs the handler at once (catch-up at start) and stop() waits for it to finish', async () => {
    const fake = fakeQuotas();
    const job = schedule({ quotas: fake.quotas, logger });
    assert.equal(fake.calls(), 1);
    let stopped = false;
    const stopping = job.stop().then(() => (stopped = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(stopped, false, 'stop() waits for the run in progress');
    fake.release();
    await stopping;
    assert.equal(stopped, true);
    assert.equal(fake.calls(), 1);
  });
});
