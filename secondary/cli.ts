/**
 * `quotient secondary`: starts a secondary daemon and stops it cleanly on SIGINT/SIGTERM; a
 * start-up error exits 1 at once (common/run-server.ts). The cluster secret is read from
 * QUOTIENT_CLUSTER_SECRET or the config file only: a flag would show it to every user of the host
 * in `ps`.
 */
import { Command, Option } from 'commander';
import { createLogger } from '../common/logger';
import { runServer } from '../common/run-server';
import { loadSecondaryConfig } from './config';
import { startSecondary, type RunningSecondary } from './daemon';

interface SecondaryCliFlags {
  primary?: string;
  name?: string;
  role?: string;
  dataDir?: string;
  socket?: string;
  config?: string;
}

export function secondaryCommand(): Command {
  return new Command('secondary')
    .description('start a secondary server (print or proxy) that reports to a primary')
    .addOption(new Option('--primary <host:port>', "the primary's gRPC address (QUOTIENT_PRIMARY)"))
    .addOption(new Option('--name <name>', 'unique name of this secondary (QUOTIENT_SECONDARY_NAME; default: the host name)'))
    .addOption(new Option('--role <role>', 'print (CUPS) or proxy (Squid) (QUOTIENT_SECONDARY_ROLE)').choices(['print', 'proxy']))
    .addOption(new Option('--data-dir <dir>', 'data directory: outbox and local socket (QUOTIENT_DATA_DIR; default ./data)'))
    .addOption(new Option('--socket <path>', 'local endpoint socket (QUOTIENT_SOCKET; default <data-dir>/quotient.sock)'))
    .addOption(new Option('--config <file>', 'JSON config file (QUOTIENT_CONFIG)'))
    .action((flags: SecondaryCliFlags) => runServer((signal) => run(flags, signal)));
}

async function run(flags: SecondaryCliFlags, signal: AbortSignal): Promise<RunningSecondary> {
  const config = loadSecondaryConfig({
    file: flags.config,
    flags: { primary: flags.primary, name: flags.name, role: flags.role, dataDir: flags.dataDir, socketPath: flags.socket },
  });
  const logger = createLogger('quotient-secondary', config.logLevel);
  const running = await startSecondary(config, logger);
  if (signal.aborted) {
    await running.shutdown('start-up aborted');
    throw signal.reason;
  }
  console.log(`Quotient secondary "${config.name}" (${config.role}) serving ${running.socketPath}; primary ${config.primary}`);
  return running;
}
