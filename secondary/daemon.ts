/**
 * Starts a secondary (a print or proxy server reporting to its primary): opens the outbox, serves the local endpoint at once (it answers by
 * the failure modes until the primary is reached), registers with the primary (retrying until it
 * can), then heartbeats, keeps the control stream open and drains the outbox. Owns the one
 * idempotent shutdown for everything it started (STYLE practice 3).
 */
import os from 'node:os';
import { status } from '@grpc/grpc-js';
import type { Logger } from '../common/logger';
import { version } from '../package.json';
import type { RegisterResponse__Output } from '../protos/generated/quotient/v1/RegisterResponse';
import { ControlStream } from './cluster/control-stream';
import { Heartbeat } from './cluster/heartbeat';
import type { SecondaryConfig } from './config';
import { ControlState } from './control-state';
import { PrintDecisions } from './local-endpoint/print-decisions';
import type { StatusAnswer } from './local-endpoint/protocol';
import { LocalEndpointServer } from './local-endpoint/server';
import { Outbox } from './outbox/outbox';
import { OutboxSender } from './outbox/sender';
import { Backoff, sleep } from './primary-client/backoff';
import { describeGrpcError, grpcCode, isUnauthenticated } from './primary-client/grpc-status';
import { PrimaryClient, primaryClientOptions } from './primary-client/primary-client';
import { UsagePipeline } from './proxy/usage-pipeline';
import { UsageReportSender } from './proxy/usage-sender';

export type SecondaryStatus = Omit<StatusAnswer, 'ok'>;

export interface RunningSecondary {
  config: SecondaryConfig;
  socketPath: string;
  outbox: Outbox;
  sender: OutboxSender;
  control: ControlState;
  /** Proxy role: Squid log ingestion and the usage report sender. */
  proxy?: { pipeline: UsagePipeline; sender: UsageReportSender };
  status(): SecondaryStatus;
  /** Resolves once the primary has accepted the registration. */
  whenRegistered(): Promise<void>;
  /** Resolves once the control stream delivered its snapshot and configuration. */
  whenSynced(): Promise<void>;
  /** Resolves once every waiting event has been delivered (or dead-lettered). */
  whenOutboxEmpty(): Promise<void>;
  shutdown(reason?: string): Promise<void>;
}

/** Failures that mean this secondary cannot get decisions from its primary now. */
function saysPrimaryIsDown(err: unknown): boolean {
  const code = grpcCode(err);
  return code === undefined || code === status.UNAVAILABLE || code === status.DEADLINE_EXCEEDED || code === status.UNAUTHENTICATED;
}

export async function startSecondary(config: SecondaryConfig, logger: Logger, opts: { outboxMinFreeBytes?: number } = {}): Promise<RunningSecondary> {
  // The client first: it reads the TLS files, so a missing one stops start-up before the outbox
  // (a database file in the data directory) is created.
  const client = new PrimaryClient(primaryClientOptions(config));
  let outbox: Outbox;
  try {
    outbox = Outbox.open({
      dataDir: config.dataDir,
      logger,
      maxBytes: config.outboxMaxMb * 1024 * 1024,
      ...(opts.outboxMinFreeBytes !== undefined ? { minFreeBytes: opts.outboxMinFreeBytes } : {}),
    });
  } catch (err) {
    client.close();
    throw err;
  }
  const control = new ControlState(logger, outbox);
  const stopController = new AbortController();

  const state = { registered: false, reachable: false, stopping: false };
  let registeredWaiters: (() => void)[] = [];
  let registering: Promise<void> | undefined;

  /** Every answer or failure from the primary passes through here. */
  const onOutcome = (err: unknown): void => {
    if (state.stopping) return;
    if (err === undefined) {
      if (!state.reachable) {
        state.reachable = true;
        if (state.registered) logger.info({ primary: config.primary }, 'primary reachable');
        sender.resume();
        controlStream.resume();
      }
      return;
    }
    if (isUnauthenticated(err) && state.registered) {
      // The primary no longer knows us (its database was replaced) or the secret changed.
      logger.warn({ error: describeGrpcError(err) }, 'the primary refused this secondary; registering again');
      state.registered = false;
      ensureRegistered();
    }
    if (saysPrimaryIsDown(err) && state.reachable) {
      state.reachable = false;
      logger.warn(
        { primary: config.primary, error: describeGrpcError(err) },
        'primary unreachable; jobs follow the failure mode and events wait in the outbox',
      );
    }
  };

  const sender = new OutboxSender({ outbox, client, logger, onCallOutcome: onOutcome });
  const heartbeat = new Heartbeat({
    client,
    outbox,
    logger,
    intervalMs: config.heartbeatSeconds * 1000,
    onOutcome: (err, serverTimeMs) => {
      onOutcome(err);
      if (serverTimeMs) checkSkew(serverTimeMs);
    },
  });
  const controlStream = new ControlStream({ client, control, logger, onOutcome });
  const proxy =
    config.role === 'proxy'
      ? {
          pipeline: new UsagePipeline({
            name: config.name,
            outbox,
            logger,
            accessLog: config.proxyAccessLog,
            tcpListen: config.proxyTcpListen,
            intervalMs: () => (config.proxyReportSeconds ?? control.usageReportIntervalSeconds ?? 60) * 1000,
          }),
          sender: new UsageReportSender({ outbox, client, logger, deadlineMs: Math.max(config.callDeadlineMs, 10_000), onCallOutcome: onOutcome }),
        }
      : undefined;

  let skewReported = false;
  const checkSkew = (serverTimeMs: number): void => {
    const skew = Date.now() - serverTimeMs;
    const skewed = Math.abs(skew) > 5000;
    // Once per episode, not on every heartbeat: job times are stamped by this host's clock.
    if (skewed && !skewReported) logger.warn({ skewMs: skew }, "this host's clock differs from the primary's by more than 5 s");
    skewReported = skewed;
  };

  const register = (): Promise<RegisterResponse__Output> =>
    client.register(
      {
        name: config.name,
        role: config.role === 'print' ? 'ROLE_PRINT' : 'ROLE_PROXY',
        version,
        host: os.hostname(),
        printers: config.printers,
      },
      { signal: stopController.signal },
    );

  const registerLoop = async (): Promise<void> => {
    const backoff = new Backoff({ baseMs: 500, maxMs: 30_000 });
    while (!stopController.signal.aborted) {
      try {
        const answer = await register();
        if (stopController.signal.aborted) return;
        state.registered = true;
        onOutcome(undefined);
        if (answer.config) control.applyConfig(answer.config);
        checkSkew(answer.serverTimeMs);
        logger.info({ primary: config.primary, name: config.name, role: config.role }, 'registered with the primary');
        heartbeat.start();
        controlStream.start();
        sender.start();
        sender.resume();
        proxy?.sender.start();
        const waiters = registeredWaiters;
        registeredWaiters = [];
        for (const w of waiters) w();
        return;
      } catch (err) {
        if (stopController.signal.aborted) return;
        onOutcome(err);
        const delay = backoff.next();
        if (isUnauthenticated(err)) {
          logger.error(
            { primary: config.primary, error: describeGrpcError(err), retryInMs: delay },
            'the primary refused the cluster secret; check QUOTIENT_CLUSTER_SECRET on both sides',
          );
        } else {
          logger[backoff.attempts <= 1 ? 'warn' : 'debug'](
            { primary: config.primary, error: describeGrpcError(err), retryInMs: delay },
            'cannot register with the primary; will retry',
          );
        }
        await sleep(delay, stopController.signal);
      }
    }
  };

  const ensureRegistered = (): void => {
    if (registering || state.stopping) return;
    registering = registerLoop().finally(() => {
      registering = undefined;
    });
  };

  const statusNow = (): SecondaryStatus => ({
    name: config.name,
    role: config.role,
    primary: config.primary,
    registered: state.registered,
    connected: state.registered && state.reachable,
    outboxDepth: outbox.depth(),
    oldestPendingMs: outbox.oldestEnqueuedAt() ?? 0,
    deadLetters: outbox.deadLetterCount(),
    offlineJobs: outbox.offlineJobCount(),
    blockedUsers: control.blockedCount,
    badLogLines: proxy ? proxy.pipeline.counts.file.bad + proxy.pipeline.counts.tcp.bad : 0,
    writable: outbox.writeFailure === undefined,
    configKnown: control.hasConfig,
  });

  const decisions = new PrintDecisions({
    outbox,
    primary: client,
    control,
    logger,
    callDeadlineMs: config.callDeadlineMs,
    status: statusNow,
    onPrimaryOutcome: onOutcome,
  });

  let endpoint: LocalEndpointServer;
  try {
    endpoint = await LocalEndpointServer.listen(config.socketPath, decisions, logger);
  } catch (err) {
    client.close();
    outbox.close();
    throw err;
  }
  try {
    await proxy?.pipeline.start();
  } catch (err) {
    await proxy?.pipeline.stop();
    await endpoint.close();
    client.close();
    outbox.close();
    throw err;
  }
  logger.info(
    { name: config.name, role: config.role, primary: config.primary, socket: config.socketPath, outboxDepth: outbox.depth(), tls: config.tlsCa !== undefined },
    'secondary started',
  );
  ensureRegistered();

  let stopping: Promise<void> | undefined;
  const shutdown = (reason = 'shutdown'): Promise<void> => {
    stopping ??= (async () => {
      logger.info({ reason }, 'secondary stopping');
      state.stopping = true;
      stopController.abort();
      // No new requests; the ones being answered finish, and their events are written.
      await endpoint.close();
      await registering;
      // What Squid logged so far goes into the outbox before it closes.
      await proxy?.pipeline.stop();
      await Promise.all([sender.stop(), controlStream.stop(), heartbeat.stop(), proxy?.sender.stop()]);
      await control.flush();
      client.close();
      outbox.close();
      logger.info('secondary stopped');
    })();
    return stopping;
  };

  return {
    config,
    socketPath: config.socketPath,
    outbox,
    sender,
    control,
    ...(proxy ? { proxy } : {}),
    status: statusNow,
    whenRegistered: () => (state.registered ? Promise.resolve() : new Promise<void>((resolve) => registeredWaiters.push(resolve))),
    whenSynced: () => controlStream.whenSynced(),
    whenOutboxEmpty: async () => {
      while (outbox.depth() > 0) await sender.nextIdle();
    },
    shutdown,
  };
}
