/**
 * `quotient api-clients add|list|revoke|rotate`: clients of the REST API (OAuth 2 client
 * credentials, primary/api-clients/). The secret is printed once, by add and rotate; `--json`
 * prints `{"clientId", "clientSecret"}` for scripts.
 */
import { Command } from 'commander';
import type { ClientCredentials } from '../../api-clients/api-client-service';
import { SCOPES, SCOPE_ALIASES } from '../../api-clients/scopes';
import { action, cliActor, printTable, withDatabaseOptions, withServices, type DatabaseFlags } from '../context';

interface JsonFlag extends DatabaseFlags {
  json?: boolean;
}

function printCredentials(made: ClientCredentials, json: boolean | undefined, what: string): void {
  if (json) return console.log(JSON.stringify({ clientId: made.client.clientId, clientSecret: made.clientSecret }));
  console.log(`${what} API client ${made.client.name}`);
  console.log(`client id      ${made.client.clientId}`);
  console.log(`client secret  ${made.clientSecret}`);
  console.log('the secret is shown only now: store it where the integration reads it');
}

function addCommand(): Command {
  const cmd = new Command('add')
    .description('add an API client and print its client id and secret (shown once)')
    .argument('<name>')
    .requiredOption('--scopes <list>', `comma-separated: ${[...SCOPES, ...Object.keys(SCOPE_ALIASES)].join(', ')}`)
    .option('--json', 'print {"clientId", "clientSecret"} as JSON');
  withDatabaseOptions(cmd).action(
    action(async (name: string, flags: JsonFlag & { scopes: string }) => {
      await withServices(flags, async (s) => {
        printCredentials(await s.apiClients.add({ name, scopes: flags.scopes, actor: cliActor() }), flags.json, 'added');
      });
    }),
  );
  return cmd;
}

function listCommand(): Command {
  const cmd = new Command('list').description('API clients with their scopes and state').option('--json', 'print the clients as JSON');
  withDatabaseOptions(cmd).action(
    action(async (flags: JsonFlag) => {
      await withServices(flags, async (s) => {
        const clients = await s.apiClients.list();
        if (flags.json) return console.log(JSON.stringify(clients));
        if (clients.length === 0) return console.log('no API clients');
        printTable(
          ['NAME', 'CLIENT ID', 'SCOPES', 'CREATED', 'BY', 'STATE'],
          clients.map((c) => [
            c.name,
            c.clientId,
            c.scopes.join(','),
            new Date(c.createdAt).toISOString(),
            c.createdBy,
            c.revokedAt === null ? 'active' : 'revoked',
          ]),
        );
      });
    }),
  );
  return cmd;
}

function revokeCommand(): Command {
  const cmd = new Command('revoke').description('revoke an API client: its tokens stop working at once').argument('<name>');
  withDatabaseOptions(cmd).action(
    action(async (name: string, flags: DatabaseFlags) => {
      await withServices(flags, async (s) => {
        const { changed } = await s.apiClients.revoke(name, cliActor());
        console.log(changed ? `revoked API client ${name.trim()}` : `API client ${name.trim()} was already revoked; nothing changed`);
      });
    }),
  );
  return cmd;
}

function rotateCommand(): Command {
  const cmd = new Command('rotate')
    .description('give an API client a new secret (shown once); the old secret and its tokens stop working')
    .argument('<name>')
    .option('--json', 'print {"clientId", "clientSecret"} as JSON');
  withDatabaseOptions(cmd).action(
    action(async (name: string, flags: JsonFlag) => {
      await withServices(flags, async (s) => {
        printCredentials(await s.apiClients.rotate(name, cliActor()), flags.json, 'rotated the secret of');
      });
    }),
  );
  return cmd;
}

export function apiClientsCommand(): Command {
  return new Command('api-clients')
    .description('REST API clients (OAuth 2 client credentials): add, list, revoke, rotate')
    .addCommand(addCommand())
    .addCommand(listCommand())
    .addCommand(revokeCommand())
    .addCommand(rotateCommand());
}
