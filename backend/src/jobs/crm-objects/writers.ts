import type { CrmObjectWriter } from './stage';
import { companiesWriter } from './companies';
import { dealsWriter } from './deals';
import { ticketsWriter } from './tickets';
import { timelineWriter } from './timeline';

/**
 * The writers of the records beyond contact properties, in the order they run (companies before the records that
 * are associated with them). Each is turned on and off by its section of the settings (`settings.crm`).
 */
export const OBJECT_WRITERS: readonly CrmObjectWriter[] = [
  companiesWriter(),
  dealsWriter,
  ticketsWriter,
  timelineWriter,
];
