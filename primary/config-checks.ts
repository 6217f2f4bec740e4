/**
 * What a primary checks of its configuration before it touches anything (issue 14): the schema
 * (config.ts) has checked each value; this checks the settings against each other and against the
 * machine, read-only: the database URL parses, TLS settings come in working combinations and
 * their files are readable PEM, and the data directory is a directory or can be made. Every
 * problem is reported at once, in one line, so a service manager's journal shows all of them and
 * a refused start creates no data directory, database or secret file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, isQuotientError } from '../common/errors';
import type { PrimaryConfig } from './config';
import { parseDatabaseUrl } from './db/connection';

export function checkPrimaryConfig(config: PrimaryConfig): void {
  const problems: string[] = [];
  try {
    parseDatabaseUrl(config.databaseUrl, config.dataDir);
  } catch (err) {
    problems.push(`databaseUrl: ${isQuotientError(err) ? err.message : String(err)}`);
  }
  if (Boolean(config.grpcTlsCert) !== Boolean(config.grpcTlsKey)) {
    problems.push(`${config.grpcTlsCert ? 'grpcTlsKey' : 'grpcTlsCert'}: grpcTlsCert and grpcTlsKey go together (gRPC over TLS)`);
  }
  if (config.grpcTlsClientCa && !config.grpcTlsCert) problems.push('grpcTlsClientCa: mutual TLS needs grpcTlsCert and grpcTlsKey as well');
  for (const key of ['grpcTlsCert', 'grpcTlsKey', 'grpcTlsClientCa'] as const) {
    const problem = config[key] ? pemFileProblem(config[key]) : undefined;
    if (problem) problems.push(`${key}: ${problem}`);
  }
  const dirProblem = directoryProblem(config.dataDir);
  if (dirProblem) problems.push(`dataDir: ${dirProblem}`);
  if (problems.length > 0) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`, { issues: problems });
}

/** Why `file` cannot serve as a PEM certificate or key, or undefined when it can. */
function pemFileProblem(file: string): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    return `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
  }
  return text.includes('-----BEGIN ') ? undefined : `${file} is not a PEM file (no -----BEGIN line)`;
}

/** Why `dir` cannot be the data directory (not a directory; or missing and its nearest existing parent is not writable). */
function directoryProblem(dir: string): string | undefined {
  let existing = dir;
  for (;;) {
    let stat: fs.Stats | undefined;
    try {
      stat = fs.statSync(existing);
    } catch {
      stat = undefined;
    }
    if (stat) {
      if (!stat.isDirectory()) return `${existing} is not a directory`;
      try {
        fs.accessSync(existing, fs.constants.W_OK | fs.constants.X_OK);
      } catch {
        return existing === dir ? `${dir} is not writable` : `${dir} does not exist and ${existing} is not writable`;
      }
      return undefined;
    }
    const parent = path.dirname(existing);
    if (parent === existing) return undefined;
    existing = parent;
  }
}
