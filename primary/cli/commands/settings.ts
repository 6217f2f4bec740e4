/**
 * `quotient settings list|set`: the site settings kept in the database (currency, defaults for new
 * users); a change is audited (`settings.set`, actor `cli:<os user>`) as the admin settings page's is.
 */
import { Command } from 'commander';
import { ValidationError } from '../../../common/errors';
import { SETTINGS, type SettingKey } from '../../settings/settings-service';
import { action, cliActor, withDatabaseOptions, withServices, type DatabaseFlags } from '../context';

/** Values are JSON (5, true, "$"); bare text that is not JSON is taken as a string. */
function parseValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export function settingsCommand(): Command {
  const list = new Command('list').description('show every site setting and its value');
  withDatabaseOptions(list).action(
    action(async (flags: DatabaseFlags) => {
      await withServices(flags, async (s) => {
        for (const [key, value] of Object.entries(await s.settings.all())) console.log(`${key} = ${JSON.stringify(value)}`);
      });
    }),
  );
  const set = new Command('set')
    .description(`change a site setting (${Object.keys(SETTINGS).join(', ')})`)
    .argument('<key>')
    .argument('<value>', 'JSON value: 5, true, "$" (amounts in minor units)');
  withDatabaseOptions(set).action(
    action(async (key: string, value: string, flags: DatabaseFlags) => {
      if (!(key in SETTINGS)) throw new ValidationError(`unknown setting ${key}; known: ${Object.keys(SETTINGS).join(', ')}`);
      await withServices(flags, async (s) => {
        await s.settings.change({ [key]: parseValue(value) }, cliActor());
        console.log(`${key} = ${JSON.stringify(await s.settings.get(key as SettingKey))}`);
      });
    }),
  );
  return new Command('settings').description('site settings stored in the database').addCommand(list).addCommand(set);
}
