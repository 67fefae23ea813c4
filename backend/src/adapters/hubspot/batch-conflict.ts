import { PermanentHubSpotError } from './errors';
import type { BatchItem, RawBatchAnswer, SendChunk } from './batch';

/**
 * Creates sent without a read first (companies and deals keyed by a unique property): HubSpot's batch create is
 * atomic, so one input whose unique value exists already (a create of ours whose answer was lost, a record we no
 * longer remember) fails the whole batch with 409 naming one value. Instead of splitting the batch in halves until
 * every conflict is isolated (two calls per halving), the whole chunk is answered BATCH_CONFLICT, input by input:
 * the caller reads the chunk's keys (one batch read), takes the records found and creates the rest again.
 */

export const BATCH_CONFLICT = 'BATCH_CONFLICT';

export function conflictsAsWholeBatch<I>(send: SendChunk<I>): SendChunk<I> {
  return async (chunk: BatchItem<I>[]): Promise<RawBatchAnswer> => {
    try {
      return await send(chunk);
    } catch (err) {
      if (!(err instanceof PermanentHubSpotError) || err.status !== 409) throw err;
      // The existing id HubSpot names belongs to one input only: it is left out, the caller reads them all.
      const message = `HubSpot refused the batch of ${chunk.length}: a record with one of its unique values exists (${err.message.replace(/\s*Existing ID: ?\d+\.?/gi, '').trim()})`;
      return {
        results: [],
        errors: chunk.map((item) => ({ status: '409', category: BATCH_CONFLICT, message, context: { ids: [item.traceId] } })),
      };
    }
  };
}
