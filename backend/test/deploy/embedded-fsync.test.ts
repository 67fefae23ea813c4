import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../../src/adapters/store/db';

/**
 * The fact the README's durability wording and the production refusal rest on: the embedded database runs with
 * fsync off. If a PGlite upgrade ever changes that, this fails and the README ("What an acknowledgement survives")
 * and ALLOW_EMBEDDED_DATABASE_IN_PRODUCTION deserve a second look.
 */
describe('the embedded database on disk', () => {
  it('runs with fsync off', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shs-fsync-'));
    const db = await openDb({ dataDir: dir });
    try {
      expect((await db.query<{ fsync: string }>('SHOW fsync')).rows).toEqual([{ fsync: 'off' }]);
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
