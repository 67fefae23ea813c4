import type { Queryable } from '../adapters/store/db';
import { markProcessed } from '../adapters/store/inbox';
import type { EventProcessor } from './types';

/** The processor used until the sync engine supplies its own: marks each event `processed`. Idempotent. */
export function createDefaultProcessor(db: Queryable): EventProcessor {
  return {
    async process(events) {
      await markProcessed(
        db,
        events.map((e) => e.id),
      );
    },
  };
}
