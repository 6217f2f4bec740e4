/**
 * The schema test: the schema the migrations make on a fresh database, on each dialect, is the
 * one recorded in test/fixtures/schema-snapshot.json, and that file records the migrations there
 * are. So an edited migration (the schema changes, the list does not) fails, and so does a new
 * migration whose schema nobody recorded. After adding a migration, record it:
 *
 *   npm run schema:snapshot      (QUOTIENT_SCHEMA_SNAPSHOT=update; MariaDB must be reachable)
 *
 * The MySQL half is recorded on MariaDB (what CI runs): MySQL 8 writes column types without
 * display widths (`int` for `int(10)`), so it would differ from the record on its own.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { MIGRATIONS } from '../../../primary/db/migrate';
import { describeOnEachDatabase } from '../../utils/databases';
import { snapshotSchema, type SnapshotFile } from '../../utils/schema-snapshot';

const SNAPSHOT = path.resolve(__dirname, '../../fixtures/schema-snapshot.json');
const MIGRATIONS_DIR = path.resolve(__dirname, '../../../primary/db/migrations');
const UPDATE = process.env.QUOTIENT_SCHEMA_SNAPSHOT === 'update';
const REGENERATE = 'Record the schema with `npm run schema:snapshot` (MariaDB reachable) and commit test/fixtures/schema-snapshot.json.';

const migrationNames = (): string[] => MIGRATIONS.map(([name]) => name);

function readSnapshot(): SnapshotFile {
  return JSON.parse(fs.readFileSync(SNAPSHOT, 'utf8')) as SnapshotFile;
}

describe('the schema snapshot', () => {
  it('lists every migration file in primary/db/migrations, in the order migrate.ts runs them', () => {
    const files = fs
      .readdirSync(MIGRATIONS_DIR)
      .filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'))
      .map((f) => f.replace(/\.(ts|js)$/, ''))
      .sort();
    assert.deepEqual(migrationNames(), files, 'primary/db/migrate.ts must list every file in primary/db/migrations/, in date order');
    if (UPDATE) return; // the snapshot is being written by the suites below
    assert.deepEqual(readSnapshot().migrations, migrationNames(), `test/fixtures/schema-snapshot.json records other migrations than there are. ${REGENERATE}`);
  });
});

describeOnEachDatabase('the schema the migrations make', (t) => {
  it('is the one recorded in test/fixtures/schema-snapshot.json', async () => {
    const actual = await snapshotSchema(t.db.knex);
    if (UPDATE) {
      const file: SnapshotFile = fs.existsSync(SNAPSHOT) ? readSnapshot() : { about: '', migrations: [], sqlite: {}, mysql: {} };
      file.about =
        'The schema primary/db/migrations makes on each dialect. Do not edit: `npm run schema:snapshot` writes it (test/integration/db/schema-snapshot.test.ts).';
      file.migrations = migrationNames();
      file[t.dialect] = actual;
      fs.writeFileSync(SNAPSHOT, `${JSON.stringify(file, null, 2)}\n`);
      return;
    }
    const recorded = readSnapshot();
    const sameMigrations = JSON.stringify(recorded.migrations) === JSON.stringify(migrationNames());
    assert.deepEqual(
      actual,
      recorded[t.dialect],
      sameMigrations
        ? `The migrations now make another schema on ${t.dialect} than the one recorded, and no migration was added: a migration already released was edited. Migrations are immutable: undo the edit and put the change in a new dated migration in primary/db/migrations/ (listed in migrate.ts). ${REGENERATE}`
        : `A migration was added or removed and the schema it makes on ${t.dialect} is not recorded. ${REGENERATE}`,
    );
  });
});
