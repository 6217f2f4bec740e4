/**
 * One-time form keys: a form that moves money carries a random key, and the ledger's idempotency
 * key is built from it, so submitting the same form twice (double click, back button) changes
 * the balance once.
 */
import crypto from 'node:crypto';
import { ValidationError } from '../../common/errors';

export const newFormKey = (): string => crypto.randomBytes(16).toString('base64url');

/** The form's key from a posted body; a missing or malformed key is a ValidationError. */
export function formKey(body: Record<string, unknown>): string {
  const k = typeof body.formKey === 'string' ? body.formKey.trim() : '';
  if (!/^[A-Za-z0-9_-]{16,64}$/.test(k)) throw new ValidationError('the form is missing its key; reload the page', { field: 'formKey' });
  return k;
}
