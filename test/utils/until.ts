/**
 * Waiting for a condition instead of a fixed sleep: polls every 50 ms until the check answers (a
 * value, not undefined) or its deadline passes, then fails naming what was awaited and the
 * check's last error. A check that throws is asked again, so an assertion inside it fails only at
 * the deadline.
 */
export async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
