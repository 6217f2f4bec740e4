/**
 * A secondary reaching its primary over TLS and mutual TLS, with certificates made by openssl.
 */
import assert from 'node:assert/strict';
import type { RunningPrimary } from '../../../primary/boot';
import type { RunningSecondary } from '../../../secondary/daemon';
import { LocalEndpointClient } from '../../../secondary/local-endpoint/client';
import { describeOnEachDatabase } from '../../utils/databases';
import { accountFor } from '../../utils/fixtures';
import { startTestPrimary } from '../../utils/primary';
import { removeDir, tempDir } from '../../unit/secondary/helpers';
import { balanceOf, makeCertificates, printJob, startTestSecondary, type Certificates } from '../../utils/secondary';

describeOnEachDatabase('secondary over TLS', (t) => {
  let certDir: string;
  let certs: Certificates;
  let dataDir: string;
  let primary: RunningPrimary | undefined;
  let secondary: RunningSecondary | undefined;

  before(function () {
    this.timeout(30_000);
    certDir = tempDir();
    certs = makeCertificates(certDir);
  });

  after(() => removeDir(certDir));

  beforeEach(() => {
    dataDir = tempDir();
  });

  afterEach(async () => {
    await secondary?.shutdown('test');
    secondary = undefined;
    await primary?.shutdown('test');
    primary = undefined;
    removeDir(dataDir);
  });

  it('registers and charges over mutual TLS with its client certificate', async () => {
    primary = await startTestPrimary(t, { grpcTlsCert: certs.serverCert, grpcTlsKey: certs.serverKey, grpcTlsClientCa: certs.ca });
    await accountFor(primary.services, { username: 'ann', restricted: false });
    secondary = await startTestSecondary(primary.grpcPort, dataDir, {
      flags: { tlsCa: certs.ca, tlsCert: certs.clientCert, tlsKey: certs.clientKey, tlsServerName: 'localhost' },
    });
    await secondary.whenRegistered();
    const client = await LocalEndpointClient.connect(secondary.socketPath);
    try {
      const job = printJob({ pages: 3 });
      const answer = await client.authorize(job);
      assert.deepEqual([answer.ok && 'decision' in answer && answer.decision, answer.ok && 'offline' in answer && answer.offline], ['allow', false]);
      await client.commit(job.jobId);
    } finally {
      client.close();
    }
    await secondary.whenOutboxEmpty();
    assert.deepEqual(await balanceOf(primary, 'ann'), [-30, 0]);
  });

  it('cannot reach a mutual-TLS primary without a client certificate, nor a TLS primary in plaintext', async () => {
    primary = await startTestPrimary(t, { grpcTlsCert: certs.serverCert, grpcTlsKey: certs.serverKey, grpcTlsClientCa: certs.ca });
    secondary = await startTestSecondary(primary.grpcPort, dataDir, { flags: { tlsCa: certs.ca, tlsServerName: 'localhost', callDeadlineMs: 1000 } });
    const client = await LocalEndpointClient.connect(secondary.socketPath);
    try {
      const answer = await client.authorize(printJob());
      assert.ok(answer.ok && 'offline' in answer);
      assert.equal(answer.offline, true, 'decided by the failure mode');
      await secondary.shutdown('next');
      removeDir(dataDir);
      secondary = await startTestSecondary(primary.grpcPort, dataDir, { flags: { callDeadlineMs: 1000 } });
      const plain = await LocalEndpointClient.connect(secondary.socketPath);
      try {
        const again = await plain.authorize(printJob());
        assert.ok(again.ok && 'offline' in again && again.offline);
        const status = await plain.status();
        assert.ok(status.ok && 'registered' in status && !status.registered);
      } finally {
        plain.close();
      }
    } finally {
      client.close();
    }
    assert.deepEqual(await primary.secondaries.list(), []);
  });
});
