/**
 * Who is blocked: restricted users who cannot spend anything more (spendable balance at or below
 * minus their credit limit). Proxy secondaries deny these users' requests.
 */
import type { Database } from '../db/connection';
import type { Money } from '../../common/money';

export async function blockedUsernames(db: Database, defaultCreditLimit: Money): Promise<string[]> {
  const rows = (await db
    .knex('accounts')
    .join('users', 'users.id', 'accounts.user_id')
    .where('accounts.type', 'personal')
    .andWhere('accounts.restricted', true)
    .andWhereRaw('accounts.balance - accounts.reserved <= -COALESCE(accounts.credit_limit, ?)', [defaultCreditLimit])
    .orderBy('users.username')
    .pluck('users.username')) as string[];
  return rows;
}
