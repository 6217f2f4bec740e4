/**
 * Small builders for integration tests: services on a test database, users with known balances.
 */
import { createServices, type Services } from '../../primary/services';
import type { Database } from '../../primary/db/connection';
import type { NewUser } from '../../primary/users/user-service';

export function servicesFor(db: Database): Services {
  return createServices(db);
}

/** Creates a user and returns the id of their personal account. */
export async function accountFor(services: Services, user: NewUser): Promise<number> {
  const detail = await services.users.createUser(user);
  return detail.account.id;
}
