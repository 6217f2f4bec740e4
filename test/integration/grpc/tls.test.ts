import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { describeOnEachDatabase } from '../../utils/databases';
import { makeCertificates, type Certificates } from '../../utils/certificates';
import { rpc, clientsFor, startTestPrimary } from '../../utils/primary';

const register = { name: 'print-1', role: 'ROLE_PRINT' as const, version: '0.1.0', host: 'h' };

describeOnEachDatabase('primary gRPC over TLS', (t) => {
  let certs: Certificates;
  before(function () {
    this.timeout(30000);
    certs = makeCertificates(fs.mkdtempSync(path.join(os.tmpdir(), 'quotient-tls-')));
  });

  it('serves TLS when given a certificate, and refuses plaintext', async () => {
    const primary = await startTestPrimary(t, { grpcTlsCert: certs.serverCert, grpcTlsKey: certs.serverKey });
    const tls = clientsFor(primary.grpcPort, { name: 'print-1', host: 'localhost', credentials: grpc.credentials.createSsl(fs.readFileSync(certs.ca)) });
    const plain = clientsFor(primary.grpcPort, { name: 'print-1' });
    try {
      const res = await rpc(tls.cluster, 'Register', register);
      assert.ok(res.serverTimeMs > 0);
      await assert.rejects(
        rpc(plain.cluster, 'Register', register, 2000),
        (e: grpc.ServiceError) => e.code === grpc.status.UNAVAILABLE || e.code === grpc.status.DEADLINE_EXCEEDED,
      );
    } finally {
      tls.close();
      plain.close();
      await primary.shutdown();
    }
  });

  it('requires a client certificate signed by the CA under mutual TLS', async () => {
    const primary = await startTestPrimary(t, { grpcTlsCert: certs.serverCert, grpcTlsKey: certs.serverKey, grpcTlsClientCa: certs.ca });
    const ca = fs.readFileSync(certs.ca);
    const withCert = clientsFor(primary.grpcPort, {
      name: 'print-1',
      host: 'localhost',
      credentials: grpc.credentials.createSsl(ca, fs.readFileSync(certs.clientKey), fs.readFileSync(certs.clientCert)),
    });
    const withoutCert = clientsFor(primary.grpcPort, { name: 'print-1', host: 'localhost', credentials: grpc.credentials.createSsl(ca) });
    try {
      assert.ok((await rpc(withCert.cluster, 'Register', register)).serverTimeMs > 0);
      await assert.rejects(
        rpc(withoutCert.cluster, 'Register', register, 2000),
        (e: grpc.ServiceError) => e.code === grpc.status.UNAVAILABLE || e.code === grpc.status.DEADLINE_EXCEEDED,
      );
    } finally {
      withCert.close();
      withoutCert.close();
      await primary.shutdown();
    }
  });
});
