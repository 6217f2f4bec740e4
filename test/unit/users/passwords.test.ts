/**
 * Password hashes: production's scrypt cost, and the cheaper one the tests hash at, which only the
 * test harness can choose. A primary started as a process hashes at the production cost
 * (test/e2e/primary-start.test.ts).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { hashPassword, PRODUCTION_HASH_COST, setHashCostForTests, unmatchableHash, verifyPassword } from '../../../primary/users/passwords';
import { TEST_HASH_COST } from '../../utils/mocha-hooks';

const ROOT = path.resolve(__dirname, '../../..');

/** Every TypeScript source under `dir`, relative to the checkout. */
function sources(dir: string): string[] {
  if (!fs.existsSync(path.join(ROOT, dir))) return [];
  return fs
    .readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(dir, f));
}

describe('password hashes', () => {
  it('cost N=16384, r=8, p=1 in production, and say so in the hash', async () => {
    assert.deepEqual({ ...PRODUCTION_HASH_COST }, { N: 16384, r: 8, p: 1 });
    setHashCostForTests(PRODUCTION_HASH_COST);
    try {
      const hash = await hashPassword('correct horse battery');
      assert.match(hash, /^scrypt\$16384\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
      assert.equal(await verifyPassword('correct horse battery', hash), true);
    } finally {
      setHashCostForTests(TEST_HASH_COST);
    }
  });

  it('are made at the test cost in this run, and verify whatever cost made them', async () => {
    const cheap = await hashPassword('correct horse battery');
    assert.match(cheap, /^scrypt\$2\$1\$1\$/);
    const production = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$VOu9yU93MAPRMAyB8afam0JVM+87Myp/+GerZ1YkZZM=';
    assert.equal(await verifyPassword('correct horse battery', cheap), true);
    assert.equal(await verifyPassword('correct horse battery', production), true);
    assert.equal(await verifyPassword('correct horse batterY', cheap), false);
  });

  it("give an unknown user's sign-in a hash of the same cost to verify, which no password matches", async () => {
    assert.equal(unmatchableHash(), 'scrypt$2$1$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=');
    for (const guess of ['', 'correct horse battery', '\u0000']) assert.equal(await verifyPassword(guess, unmatchableHash()), false, JSON.stringify(guess));
    setHashCostForTests(PRODUCTION_HASH_COST);
    try {
      assert.match(unmatchableHash(), /^scrypt\$16384\$8\$1\$/);
    } finally {
      setHashCostForTests(TEST_HASH_COST);
    }
  });

  it('treat a compatibility form of a character as the character (NFKC)', async () => {
    assert.equal(await verifyPassword('ﬁsh-and-chips', await hashPassword('fish-and-chips')), true);
  });

  it('can be made cheap by the test harness alone: nothing outside test/ lowers the cost', () => {
    const callers = ['primary', 'secondary', 'common', 'cli', 'web-tools', 'bench', 'protos']
      .flatMap(sources)
      .filter((f) => f !== path.join('primary', 'users', 'passwords.ts') && fs.readFileSync(path.join(ROOT, f), 'utf8').includes('setHashCostForTests'));
    assert.deepEqual(callers, []);
  });
});
