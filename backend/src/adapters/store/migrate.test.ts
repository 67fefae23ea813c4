import { dbKinds, freshDatabase } from '../../../test/helpers/db';
import { migrate, loadMigrations } from './migrate';

describe.each(dbKinds())('migrations on %s', (kind) => {
  it('applies every migration once, and a second run applies nothing', async () => {
    const target = await freshDatabase(kind);
    const db = await target.open();
    try {
      const all = loadMigrations().map((m) => m.version);
      expect(await migrate(db)).toEqual(all);
      expect(await migrate(db)).toEqual([]);
      const { rows } = await db.query<{ n: string }>('SELECT count(*)::text AS n FROM schema_migrations');
      expect(Number(rows[0].n)).toBe(all.length);
    } finally {
      await db.close();
      await target.drop();
    }
  });
});
