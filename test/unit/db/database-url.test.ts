import assert from 'node:assert/strict';
import { parseDatabaseUrl, redactUrl } from '../../../primary/db/connection';

describe('parseDatabaseUrl()', () => {
  it('defaults to SQLite in the data directory', () => {
    assert.deepEqual(parseDatabaseUrl('', '/var/lib/quotient'), { dialect: 'sqlite', filename: '/var/lib/quotient/quotient.db' });
  });

  it('reads sqlite: paths, absolute and relative', () => {
    assert.equal(parseDatabaseUrl('sqlite:///srv/q.db', '/d').filename, '/srv/q.db');
    assert.equal(parseDatabaseUrl('sqlite:/srv/q.db', '/d').filename, '/srv/q.db');
    assert.equal(parseDatabaseUrl('sqlite::memory:', '/d').filename, ':memory:');
  });

  it('reads mysql:// URLs with escaped credentials and a default port', () => {
    assert.deepEqual(parseDatabaseUrl('mysql://quotient:p%40ss@db.example:3307/print', '/d').mysql, {
      host: 'db.example',
      port: 3307,
      user: 'quotient',
      password: 'p@ss',
      database: 'print',
    });
    assert.equal(parseDatabaseUrl('mariadb://root@127.0.0.1/test', '/d').mysql?.port, 3306);
  });

  it('refuses what it cannot use, with a clear message', () => {
    assert.throws(() => parseDatabaseUrl('postgres://x@y/z', '/d'), /unsupported database URL/);
    assert.throws(() => parseDatabaseUrl('mysql://root@127.0.0.1:3306/', '/d'), /must name a host and a database/);
    assert.throws(() => parseDatabaseUrl('mysql://[bad', '/d'), /not a valid URL/);
    assert.throws(() => parseDatabaseUrl('sqlite:', '/d'), /needs a file path/);
  });

  it('never shows a password', () => {
    assert.equal(redactUrl('mysql://u:secret@h/db'), 'mysql://u:***@h/db');
    assert.doesNotMatch(
      String(
        (() => {
          try {
            parseDatabaseUrl('pg://u:secret@h/db', '/d');
          } catch (e) {
            return (e as Error).message;
          }
          return '';
        })(),
      ),
      /secret/,
    );
  });
});
