import type { Db } from './db';

/**
 * The read model's generation as committed now, on PostgreSQL (migration 021): the sum over `read_model_generation`,
 * which the commit of every transaction that wrote a read-model table moves. Read in the statement's own snapshot:
 * equal sums at two reads mean no such commit became visible in between. A prepared statement over one page.
 */
export async function committedReadModelGeneration(db: Pick<Db, 'queryPrepared'>): Promise<string> {
  const { rows } = await db.queryPrepared<{ g: string }>('read_model_generation_sum', 'SELECT sum(n)::text AS g FROM read_model_generation', []);
  return rows[0]?.g ?? '0';
}
