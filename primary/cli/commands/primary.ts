/**
 * `quotient primary`: starts a primary server and stops it cleanly on SIGINT/SIGTERM.
 */
import { Command, Option } from 'commander';
import { createLogger } from '../../../common/logger';
import { startPrimary, type RunningPrimary } from '../../boot';
import { action, configFromFlags, withDatabaseOptions } from '../context';

export function primaryCommand(): Command {
  const cmd = new Command('primary')
    .description('start a primary server (HTTP web tools and API, gRPC for secondaries)')
    .addOption(new Option('--http-port <port>', 'HTTP port (web tools, API, /healthz)').env('QUOTIENT_HTTP_PORT'))
    .addOption(new Option('--http-host <address>', 'address the HTTP server listens on').env('QUOTIENT_HTTP_HOST'))
    .addOption(new Option('--grpc-port <port>', 'gRPC port for secondaries').env('QUOTIENT_GRPC_PORT'))
    .addOption(new Option('--grpc-host <address>', 'address the gRPC server listens on').env('QUOTIENT_GRPC_HOST'));
  withDatabaseOptions(cmd).action(
    action(async (flags: Record<string, string | undefined>) => {
      const config = configFromFlags(flags, { httpPort: flags.httpPort, httpHost: flags.httpHost, grpcPort: flags.grpcPort, grpcHost: flags.grpcHost });
      const logger = createLogger('quotient-primary', config.logLevel);
      // Handlers go in before anything starts, so a signal during start-up also stops cleanly.
      const state: { stopRequested?: string; running?: RunningPrimary } = {};
      const stop = (signal: string): void => {
        state.stopRequested = signal;
        if (state.running) void state.running.shutdown(signal).then(() => process.exit(0));
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
      const running = await startPrimary(config, logger);
      state.running = running;
      if (state.stopRequested) return stop(state.stopRequested);
      const host = config.httpHost === '0.0.0.0' ? 'localhost' : config.httpHost;
      const grpcHost = config.grpcHost === '0.0.0.0' ? 'localhost' : config.grpcHost;
      console.log(`Quotient primary listening on http://${host}:${running.httpPort}, gRPC ${grpcHost}:${running.grpcPort} (database ${running.services.db.description})`);
    }),
  );
  return cmd;
}
