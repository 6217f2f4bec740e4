/**
 * How `quotient primary` and `quotient secondary` run a server process, so a service manager
 * always sees the truth (issue 14):
 *  - signal handlers go in before start-up; SIGINT/SIGTERM during start-up aborts it (`start`
 *    gets the AbortSignal and stops between steps, closing what it opened), then exits 0;
 *  - a start-up error prints one line and exits 1 at once: nothing left open (a database pool, a
 *    timer) may keep a process alive that serves nothing;
 *  - once started, the first signal runs the server's one shutdown and exits 0; a second signal
 *    ends the process at once (the handlers are `once`, so Node's default applies).
 */
import { isQuotientError } from './errors';

export interface Stoppable {
  shutdown(reason?: string): Promise<void>;
}

/** The reason a start-up was aborted by a signal. */
export class StartupAborted extends Error {
  constructor(readonly signal: string) {
    super(`stopped by ${signal} during start-up`);
  }
}

export async function runServer(start: (signal: AbortSignal) => Promise<Stoppable>): Promise<void> {
  const abort = new AbortController();
  const state: { running?: Stoppable; signal?: string } = {};
  const stop = (running: Stoppable, signal: string): void => {
    running.shutdown(signal).then(
      () => process.exit(0),
      (err: unknown) => fail(err),
    );
  };
  const onSignal = (signal: string): void => {
    state.signal = signal;
    if (state.running) stop(state.running, signal);
    else abort.abort(new StartupAborted(signal));
  };
  process.once('SIGINT', () => onSignal('SIGINT'));
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  let running: Stoppable;
  try {
    running = await start(abort.signal);
  } catch (err) {
    if (err instanceof StartupAborted || abort.signal.aborted) {
      console.error(`quotient: stopped by ${state.signal ?? 'a signal'} during start-up`);
      process.exit(0);
    }
    return fail(err);
  }
  state.running = running;
  // The signal came as the last step finished.
  if (state.signal) stop(running, state.signal);
}

function fail(err: unknown): never {
  console.error(`error: ${isQuotientError(err) ? err.message : ((err as Error)?.message ?? String(err))}`);
  if (!isQuotientError(err) && process.env.QUOTIENT_DEBUG) console.error((err as Error).stack);
  process.exit(1);
}
