/**
 * Usage: {{#if (eq status "printed")}}...{{/if}}
 * Strict equality of two values, for choosing what to show.
 */
export function eq(a: unknown, b: unknown): boolean {
  return a === b;
}
