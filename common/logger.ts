/**
 * Structured JSON logs (pino) for every process. Level from QUOTIENT_LOG_LEVEL (default info);
 * 'silent' turns logging off (the test suite does this).
 */
import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(name: string, level = process.env.QUOTIENT_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
}
