/** What an error page, or a refused form, says about an error. */
import { isQuotientError } from '../../common/errors';

/**
 * The catalogue key that explains an error to a person, and the key (or name) of the form field
 * it is about. The services' own messages are English for logs and the CLI; the pages say the
 * same thing from the catalogue, by error code and field, so a translated site stays translated.
 */
export function errorMessage(err: unknown): { message: string; field: string } {
  if (!isQuotientError(err)) return { message: 'error.500', field: '' };
  const named = err.details.field ?? err.details.key;
  const field = typeof named === 'string' && named !== '' ? (FIELD_KEYS.has(named) ? `field.${named}` : named) : '';
  switch (err.code) {
    case 'VALIDATION':
      return { message: field ? 'error.invalidField' : 'error.invalid', field };
    case 'BAD_REQUEST':
      return { message: 'error.badRequest', field: '' };
    case 'TOO_LARGE':
      return { message: 'error.tooLarge', field: '' };
    case 'NOT_FOUND':
      return { message: 'error.404', field: '' };
    case 'FORBIDDEN':
      return { message: 'error.403', field: '' };
    case 'INSUFFICIENT_FUNDS':
      return { message: 'error.insufficient', field: '' };
    case 'ALREADY_EXISTS':
    case 'IDEMPOTENCY_CONFLICT':
    case 'INVALID_STATE':
      return { message: 'error.done', field: '' };
    default:
      return { message: 'error.500', field: '' };
  }
}

/** Form fields with a name in the catalogue (`field.<name>`); others (setting keys) show as they are. */
const FIELD_KEYS = new Set([
  'amount',
  'balance',
  'comment',
  'creditLimit',
  'initialCredit',
  'initialCreditLimit',
  'formKey',
  'id',
  'reason',
  'job',
  'failureMode',
  'decision',
  'name',
  'group',
  'restricted',
  'initialRestricted',
  'enabled',
  'language',
  'account',
  'code',
  'pin',
  'multiplier',
  'starts',
  'expires',
  'allocation',
  'notes',
  'user',
  'kind',
]);
