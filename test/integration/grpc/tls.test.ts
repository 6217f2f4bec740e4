import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { describeOnEachDatabase } from '../../utils/databases';
import { rpc, clientsFor, startTestPrimary } from '../../utils/primary';

/** A CA, a server certificate for localhost/127.0.0.1, and a client certificate, made with openssl. */
function makeCertificates(dir: string): Record<'ca' | 'caKey' | 'serverCert' | 'serverKey' | 'clientCert' | 'clientKey', string> {
  const p = (name: string): string => path.join(dir, name);
  const ssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'ignore' });
  };
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=Quotient test CA', '-keyout', p('ca.key'), '-out', p('ca.pem'));
  fs.writeFileSync(p('server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', p('server.key'), '-out', p('server.csr'));
  ssl('x509', '-req', '-in', p('server.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', p('server.ext'), '-out', p('server.pem'));
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=print-1', '-keyout', p('client.key'), '-out', p('client.csr'));
  ssl('x509', '-req', '-in', p('client.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-days', '2', '-out', p('client.pem'));
  return { ca: p('ca.pem'), caKey: p('ca.key'), serverCert: p('server.pem'), serverKey: p('server.key'), clientCert: p('client.pem'), clientKey: p('client.key') };
}

const register = { name: 'print-1', role: 'ROLE_PRINT' as const, version: '0.1.0', host: 'h' };

describeOnEachDatabase('primary gRPC over TLS', (t) => {
  let certs: ReturnType<typeof makeCertificates>;
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
      await assert.rejects(rpc(plain.cluster, 'Register', register, 2000), (e: grpc.ServiceError) => e.code === grpc.status.UNAVAILABLE || e.code === grpc.status.DEADLINE_EXCEEDED);
    } finally {
      tls.close();
      plain.close();
      await primary.shutdown();
    }
  });

  it('requires a client certificate signed by the CA under mutual TLS', async () => {
    const primary = await startTestPrimary(t, { grpcTlsCert: certs.serverCert, grpcTlsKey: certs.serverKey, grpcTlsClientCa: certs.ca });
    const ca = fs.readFileSync(certs.ca);
    const withCert = clientsFor(primary.grpcPort, { name: 'print-1', host: 'localhost', credentials: grpc.credentials.createSsl(ca, fs.readFileSync(certs.clientKey), fs.readFileSync(certs.clientCert)) });
    const withoutCert = clientsFor(primary.grpcPort, { name: 'print-1', host: 'localhost', credentials: grpc.credentials.createSsl(ca) });
    try {
      assert.ok((await rpc(withCert.cluster, 'Register', register)).serverTimeMs > 0);
      await assert.rejects(rpc(withoutCert.cluster, 'Register', register, 2000), (e: grpc.ServiceError) => e.code === grpc.status.UNAVAILABLE || e.code === grpc.status.DEADLINE_EXCEEDED);
    } finally {
      withCert.close();
      withoutCert.close();
      await primary.shutdown();
    }
  });
});
