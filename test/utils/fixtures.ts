/**
 * Small builders for integration tests: services on a test database, users with known balances.
 */
import { createServices, type Services } from '../../primary/services';
import type { Database } from '../../primary/db/connection';
import type { NewUser } from '../../primary/users/user-service';
import { parseJobDescription, type JobDescription } from '../../primary/printing/job-events';

export function servicesFor(db: Database): Services {
  return createServices(db);
}

/** Creates a user and returns the id of their personal account. */
export async function accountFor(services: Services, user: NewUser): Promise<number> {
  const detail = await services.users.createUser(user);
  return detail.account.id;
}

let jobSeq = 0;

/**
 * A valid print job description for tests, with a job id unique to this run: 3 greyscale A4
 * simplex pages of essay.pdf by ann on library-laser, unless overridden.
 */
export function jobDescription(overrides: Partial<JobDescription> = {}): JobDescription {
  jobSeq += 1;
  return parseJobDescription({
    jobId: `urn:uuid:test-${process.pid}-${jobSeq}-${Math.random().toString(16).slice(2, 8)}`,
    queue: 'library-laser',
    username: 'ann',
    documentName: 'essay.pdf',
    pages: 3,
    colourPages: 0,
    copies: 1,
    duplex: false,
    paperSize: 'A4',
    finishings: [],
    accountCode: '',
    clientHost: '',
    submittedAt: 0,
    ...overrides,
  });
}
