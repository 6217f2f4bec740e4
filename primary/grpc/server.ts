/**
 * The primary's gRPC server: Cluster and Printing for secondaries, grpc.health.v1 for probes,
 * behind the auth interceptor; TLS (and mutual TLS) by configuration. `stop()` marks health
 * NOT_SERVING, ends Watch streams, and shuts down gracefully with a forced fallback.
 */
import fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from '../../common/logger';
import { loadQuotientProto } from '../../protos/load';
import type { PrimaryConfig } from '../config';
import type { BlockWatcher } from '../cluster/block-watcher';
import type { SecondaryRegistry } from '../cluster/secondary-registry';
import type { Services } from '../services';
import { authInterceptor } from './auth-interceptor';
import { clusterHandlers, type WatchStreams } from './cluster-service';
import { internetHandlers } from './internet-service';
import { printingHandlers } from './printing-service';

export interface RunningGrpcServer {
  port: number;
  stop(graceMs: number): Promise<void>;
}

const SERVICES = ['', 'quotient.v1.Cluster', 'quotient.v1.Printing', 'quotient.v1.Internet'];

/**
 * The server's transport settings (the bench's empty floor server uses them too). Channelz keeps
 * per-call statistics for a debugging service this server does not offer; off, each call costs
 * about a tenth less CPU (docs/performance-log.md, "Figures after the changes (2026-12-02)").
 */
export const GRPC_SERVER_OPTIONS: grpc.ServerOptions = {
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
  'grpc.enable_channelz': 0,
};

function credentials(config: PrimaryConfig): grpc.ServerCredentials {
  if (!config.grpcTlsCert || !config.grpcTlsKey) return grpc.ServerCredentials.createInsecure();
  const clientCa = config.grpcTlsClientCa ? fs.readFileSync(config.grpcTlsClientCa) : null;
  return grpc.ServerCredentials.createSsl(
    clientCa,
    [{ cert_chain: fs.readFileSync(config.grpcTlsCert), private_key: fs.readFileSync(config.grpcTlsKey) }],
    clientCa !== null, // mutual TLS: a client certificate signed by the CA is required
  );
}

export async function startGrpcServer(deps: {
  config: PrimaryConfig;
  services: Services;
  registry: SecondaryRegistry;
  blocks: BlockWatcher;
  secret: string;
  logger: Logger;
}): Promise<RunningGrpcServer> {
  const { config, services, registry, blocks, secret, logger } = deps;
  const proto = loadQuotientProto();
  const server = new grpc.Server({ ...GRPC_SERVER_OPTIONS, interceptors: [authInterceptor(secret, (name) => registry.isRegistered(name))] });
  const watchers: WatchStreams = new Set();
  server.addService(proto.quotient.v1.Cluster.service, clusterHandlers(services, registry, blocks, watchers, logger));
  server.addService(proto.quotient.v1.Printing.service, printingHandlers(services.printing, logger));
  server.addService(proto.quotient.v1.Internet.service, internetHandlers(services.internet, logger));
  const health = new HealthImplementation(Object.fromEntries(SERVICES.map((s) => [s, 'SERVING' as const])));
  health.addToServer(server);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${config.grpcHost}:${config.grpcPort}`, credentials(config), (err, bound) => (err ? reject(err) : resolve(bound)));
  });

  let stopping: Promise<void> | undefined;
  return {
    port,
    stop(graceMs) {
      stopping ??= new Promise<void>((resolve) => {
        for (const s of SERVICES) health.setStatus(s, 'NOT_SERVING');
        for (const w of watchers) w.end();
        const forced = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(forced);
          resolve();
        });
      });
      return stopping;
    },
  };
}
