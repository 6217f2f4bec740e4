/**
 * Entry point for the CLI test: runs `secondaryCommand()` as `quotient secondary` would, until the
 * lead registers it in primary/cli/main.ts (then the test can run the real `quotient` binary).
 */
import { secondaryCommand } from '../../../secondary/cli';

secondaryCommand()
  .parseAsync(process.argv.slice(2), { from: 'user' })
  .catch((err: unknown) => {
    console.error(`error: ${(err as Error).message}`);
    process.exit(1);
  });
