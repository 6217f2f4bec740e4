/**
 * Root hooks for every mocha run: quiet logs unless QUOTIENT_TEST_LOG is set, cheap password
 * hashes for this process, and a closing notice naming any database dialect that could not be
 * tested on this machine.
 */
import { setHashCostForTests } from '../../primary/users/passwords';
import { dropRunDatabase, untestedDialects } from './databases';

process.env.QUOTIENT_LOG_LEVEL ??= process.env.QUOTIENT_TEST_LOG ?? 'silent';

/**
 * The cheapest scrypt accepts: the tests create users by the thousand, and a hash at the
 * production cost takes tens of milliseconds (hundreds on a busy CI machine). Hashes name their
 * cost, so these verify like any other; primaries started as processes keep the production cost,
 * which test/e2e/primary-start.test.ts checks.
 */
export const TEST_HASH_COST = { N: 2, r: 1, p: 1 };
setHashCostForTests(TEST_HASH_COST);

export const mochaHooks = {
  async afterAll(): Promise<void> {
    await dropRunDatabase();
    if (untestedDialects.size > 0) {
      console.log(`\n  NOTE: ${[...untestedDialects].join(', ')} was NOT tested: no server reachable (set QUOTIENT_TEST_MYSQL_URL).\n`);
    }
  },
};
