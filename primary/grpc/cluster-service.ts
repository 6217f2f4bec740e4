/**
 * gRPC Cluster handlers: registration, heartbeats, and the Watch stream on which the primary
 * pushes each secondary its blocked users and its configuration (failure modes per queue).
 */
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../common/logger';
import type { ClusterHandlers } from '../../protos/generated/quotient/v1/Cluster';
import type { ControlEvent } from '../../protos/generated/quotient/v1/ControlEvent';
import type { FailureMode__Output as WireFailureMode__Output } from '../../protos/generated/quotient/v1/FailureMode';
import type { PrinterConfig } from '../../protos/generated/quotient/v1/PrinterConfig';
import { PRINT_JOB_LIMITS } from '../pricing/price-job';
import type { SecondaryConfig } from '../../protos/generated/quotient/v1/SecondaryConfig';
import type { WatchRequest__Output } from '../../protos/generated/quotient/v1/WatchRequest';
import type { UnknownPageCount__Output as WireUnknownPageCount__Output } from '../../protos/generated/quotient/v1/UnknownPageCount';
import type { FailureMode, Printer, UnknownPageCount } from '../printing/printer-registry';
import type { Services } from '../services';
import { BLOCK_REASON, type BlockChange, type BlockWatcher } from '../cluster/block-watcher';
import type { SecondaryRegistry } from '../cluster/secondary-registry';
import { secondaryOf, unary } from './status';

const WIRE_FAILURE_MODE: Record<FailureMode, WireFailureMode__Output> = {
  charge_later: 'FAILURE_MODE_CHARGE_LATER',
  hold: 'FAILURE_MODE_HOLD',
  deny: 'FAILURE_MODE_DENY',
  free: 'FAILURE_MODE_FREE',
};

const WIRE_UNKNOWN_PAGE_COUNT: Record<UnknownPageCount, WireUnknownPageCount__Output> = {
  hold: 'UNKNOWN_PAGE_COUNT_HOLD',
  'charge-maximum': 'UNKNOWN_PAGE_COUNT_CHARGE_MAXIMUM',
};

/** A printer's settings as its secondary applies them (protos/quotient/v1/cluster.proto, PrinterConfig). */
export function printerConfig(p: Printer): PrinterConfig {
  return {
    queue: p.queueName,
    enabled: p.enabled,
    failureMode: WIRE_FAILURE_MODE[p.failureMode],
    unknownPageCount: WIRE_UNKNOWN_PAGE_COUNT[p.unknownPageCount],
    // The "maximum" is the max-pages filter (all copies); unreadable filters give none, so the job is held.
    unknownPageCountPages: Math.min(p.filters?.maxPages ?? 0, PRINT_JOB_LIMITS.maxPages),
  };
}

export const USAGE_REPORT_INTERVAL_SECONDS = 60;

/** Open Watch streams, so shutdown can end them. */
export type WatchStreams = Set<grpc.ServerWritableStream<WatchRequest__Output, ControlEvent>>;

export function clusterHandlers(
  services: Services,
  registry: SecondaryRegistry,
  blocks: BlockWatcher,
  watchers: WatchStreams,
  logger: Logger,
): ClusterHandlers {
  const configFor = async (name: string): Promise<SecondaryConfig> => ({
    printers: (await services.printers.ofSecondary(name)).map(printerConfig),
    usageReportIntervalSeconds: USAGE_REPORT_INTERVAL_SECONDS,
  });

  return {
    Register: unary(logger, async (call) => {
      const r = call.request;
      const role = r.role === 'ROLE_PRINT' ? 'print' : r.role === 'ROLE_PROXY' ? 'proxy' : r.role;
      const secondary = await registry.register({ name: r.name, role, version: r.version, host: r.host, printers: r.printers }, call.getPeer());
      logger.info({ secondary: secondary.name, role: secondary.role, version: secondary.version }, 'secondary registered');
      return { serverTimeMs: Date.now(), config: await configFor(secondary.name) };
    }),

    Heartbeat: unary(logger, async (call) => {
      const r = call.request;
      await registry.heartbeat(secondaryOf(call), {
        outboxDepth: r.outboxDepth,
        oldestPendingAt: r.oldestPendingMs,
        deadLetters: r.deadLetters,
        lastDeadLetter: r.lastDeadLetter,
      });
      return { serverTimeMs: Date.now() };
    }),

    Watch: (call) => {
      const name = secondaryOf(call);
      let sequence = 0;
      const send = (event: Omit<ControlEvent, 'sequence'>): void => {
        if (!call.cancelled && call.writable) call.write({ sequence: ++sequence, ...event });
      };
      const pushConfig = (changed: string): void => {
        if (changed !== name) return;
        configFor(name).then(
          (config) => send({ config }),
          (err: unknown) => logger.warn({ err, secondary: name }, 'cannot push configuration'),
        );
      };
      const pushBlock = (change: BlockChange): void => send({ blockChange: change });
      const stop = (): void => {
        registry.events.off('config', pushConfig);
        blocks.events.off('change', pushBlock);
        watchers.delete(call);
      };
      watchers.add(call);
      registry.events.on('config', pushConfig);
      call.on('cancelled', stop);
      call.on('close', stop);
      call.on('error', stop);
      // The snapshot and the subscription happen in the same turn, so no change falls between them.
      send({ blockedSnapshot: { users: blocks.snapshot().map((username) => ({ username, blocked: true, reason: BLOCK_REASON })) } });
      blocks.events.on('change', pushBlock);
      void (async () => {
        try {
          send({ config: await configFor(name) });
        } catch (err) {
          logger.warn({ err, secondary: name }, 'cannot send the Watch snapshot');
          call.end();
        }
      })();
    },
  };
}
