/**
 * Root hooks for every mocha run: quiet logs unless QUOTIENT_TEST_LOG is set, and a closing
 * notice naming any database dialect that could not be tested on this machine.
 */
import { dropRunDatabase, untestedDialects } from './databases';

process.env.QUOTIENT_LOG_LEVEL ??= process.env.QUOTIENT_TEST_LOG ?? 'silent';

export const mochaHooks = {
  async afterAll(): Promise<void> {
    await dropRunDatabase();
    if (untestedDialects.size > 0) {
      console.log(`\n  NOTE: ${[...untestedDialects].join(', ')} was NOT tested: no server reachable (set QUOTIENT_TEST_MYSQL_URL).\n`);
    }
  },
};
