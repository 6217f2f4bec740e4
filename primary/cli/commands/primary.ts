/**
 * `quotient primary`: starts a primary server and stops it cleanly on SIGINT/SIGTERM; a start-up
 * error exits 1 at once (common/run-server.ts).
 */
import { Command, Option } from 'commander';
import { createLogger } from '../../../common/logger';
import { runServer } from '../../../common/run-server';
import { startPrimary } from '../../boot';
import { configFromFlags, withDatabaseOptions } from '../context';

export function primaryCommand(): Command {
  const cmd = new Command('primary')
    .description('start a primary server (HTTP web tools and API, gRPC for secondaries)')
    .addOption(new Option('--http-port <port>', 'HTTP port (web tools, API, /healthz)').env('QUOTIENT_HTTP_PORT'))
    .addOption(new Option('--http-host <address>', 'address the HTTP server listens on').env('QUOTIENT_HTTP_HOST'))
    .addOption(new Option('--grpc-port <port>', 'gRPC port for secondaries').env('QUOTIENT_GRPC_PORT'))
    .addOption(new Option('--grpc-host <address>', 'address the gRPC server listens on').env('QUOTIENT_GRPC_HOST'));
  withDatabaseOptions(cmd).action(async (given: Record<string, string | undefined>, self: Command) => {
    await runServer(async (signal) => {
      // Values commander took from the environment are left to the config loader, which reads the
      // same variables and names them in its errors (not as "command-line flag").
      const flags = Object.fromEntries(Object.entries(given).filter(([key]) => self.getOptionValueSource(key) !== 'env'));
      const config = configFromFlags(flags, { httpPort: flags.httpPort, httpHost: flags.httpHost, grpcPort: flags.grpcPort, grpcHost: flags.grpcHost });
      const logger = createLogger('quotient-primary', config.logLevel);
      const running = await startPrimary(config, logger, console.log, { signal });
      const host = config.httpHost === '0.0.0.0' ? 'localhost' : config.httpHost;
      const grpcHost = config.grpcHost === '0.0.0.0' ? 'localhost' : config.grpcHost;
      console.log(
        `Quotient primary listening on http://${host}:${running.httpPort}, gRPC ${grpcHost}:${running.grpcPort} (database ${running.services.db.description})`,
      );
      return running;
    });
  });
  return cmd;
}
