import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from './db';
import { createPgliteDataDir, PGLITE_SETTINGS, pgliteStartParams } from './pglite-setup';

// Creating a database takes a few seconds, more on a loaded machine.
jest.setTimeout(180_000);

describe('the embedded database on disk', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'shs-pglite-setup-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('is created once, by a child process, and opened with the bounded memory settings', async () => {
    const dataDir = join(root, 'data');
    const db = await openDb({ dataDir });
    try {
      expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true);
      const { rows } = await db.query<{ shared_buffers: string; maintenance_work_mem: string; work_mem: string }>(
        `SELECT current_setting('shared_buffers') AS shared_buffers, current_setting('maintenance_work_mem') AS maintenance_work_mem,
                current_setting('work_mem') AS work_mem`,
      );
      expect(rows[0]).toEqual({ shared_buffers: '16MB', maintenance_work_mem: '16MB', work_mem: '4MB' });
      await db.exec('CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)');
    } finally {
      await db.close();
    }
    // An existing database is opened as it is: nothing is created again, the data stays.
    await expect(createPgliteDataDir(dataDir)).resolves.toBe(false);
    const again = await openDb({ dataDir });
    try {
      expect((await again.query<{ n: number }>('SELECT n FROM kept')).rows).toEqual([{ n: 42 }]);
    } finally {
      await again.close();
    }
  });

  it('creates a database in an empty directory and answers true', async () => {
    const dataDir = join(root, 'fresh');
    await expect(createPgliteDataDir(dataDir)).resolves.toBe(true);
    expect(readdirSync(dataDir)).toEqual(expect.arrayContaining(['PG_VERSION', 'base', 'global', 'postgresql.conf']));
  });

  it('fails with a clear error naming the directory when the database cannot be created there', async () => {
    const notADir = join(root, 'a-file');
    writeFileSync(notADir, 'not a directory');
    await expect(createPgliteDataDir(notADir)).rejects.toThrow(`could not create the embedded database in ${notADir}`);
  });

  it("adds each setting to PGlite's start parameters as -c name=value", () => {
    expect(pgliteStartParams(['--single'])).toEqual([
      '--single',
      ...Object.entries(PGLITE_SETTINGS).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
    ]);
  });
});
