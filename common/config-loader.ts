/**
 * Layered configuration shared by both servers: defaults < config file (JSON) < environment
 * < command-line flags, validated with a zod schema at start so a bad setting stops the process
 * with a message naming the setting and where it came from.
 */
import fs from 'node:fs';
import { z } from 'zod';
import { ConfigError } from './errors';

/** Maps a config key to the environment variable that overrides it. */
export type EnvMap<K extends string> = Partial<Record<K, string>>;

export interface LoadOptions<K extends string> {
  /** Path of a JSON config file, or undefined for none. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  envMap: EnvMap<K>;
  /** Values given as command-line flags (undefined entries are ignored). */
  flags?: Partial<Record<K, unknown>>;
}

export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`, { file });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid JSON: ${(err as Error).message}`, { file });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${file} must hold a JSON object`, { file });
  }
  return parsed as Record<string, unknown>;
}

export function loadConfig<S extends z.ZodObject, K extends Extract<keyof z.input<S>, string>>(schema: S, opts: LoadOptions<K>): z.output<S> {
  const env = opts.env ?? process.env;
  const merged: Record<string, unknown> = {};
  const source: Record<string, string> = {};
  if (opts.file) {
    for (const [k, v] of Object.entries(readConfigFile(opts.file))) {
      merged[k] = v;
      source[k] = `config file ${opts.file}`;
    }
  }
  for (const [key, variable] of Object.entries(opts.envMap) as [K, string][]) {
    const value = env[variable];
    if (value !== undefined && value !== '') {
      merged[key] = value;
      source[key] = `environment variable ${variable}`;
    }
  }
  for (const [key, value] of Object.entries(opts.flags ?? {})) {
    if (value !== undefined) {
      merged[key] = value;
      source[key] = `command-line flag`;
    }
  }
  const result = schema.safeParse(merged);
  if (!result.success) {
    const where = (key: string): string => (source[key] ? ` (from ${source[key]})` : '');
    const lines = result.error.issues.flatMap((issue) => {
      // A misspelt or unsupported key is named with the file it came from.
      if (issue.code === 'unrecognized_keys' && issue.path.length === 0) return issue.keys.map((key) => `${key}: unknown setting${where(key)}`);
      return [`${issue.path.join('.') || '(config)'}: ${issue.message}${where(String(issue.path[0] ?? ''))}`];
    });
    // One line: it is what a service manager's journal shows.
    throw new ConfigError(`invalid configuration: ${lines.join('; ')}`, { issues: lines });
  }
  return result.data;
}

/** A TCP port given as a number or a numeric string. */
export const portSchema = z.coerce.number().int().min(0).max(65535);
