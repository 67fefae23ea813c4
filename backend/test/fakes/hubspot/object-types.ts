import { ALWAYS_RETURNED, DEFAULT_CONTACT_PROPERTIES, builtinGroups, builtinProperties } from './builtins';
import {
  companyGroups,
  companyProperties,
  dealGroups,
  dealProperties,
  noteGroups,
  noteProperties,
  ticketGroups,
  ticketProperties,
} from './builtins-objects';
import type { SpecFile } from './spec-validator';
import type { AssociableType, CrmObjectType } from './types';

/**
 * What differs between the CRM object types the fake models: names and type ids, the vendored spec and its path
 * prefix, built-in properties, unique and case-insensitive built-ins, the system property names, the properties a
 * read returns by default and the ones a search `query` looks in.
 */

type Json = Record<string, unknown>;

export interface ObjectTypeDef {
  name: CrmObjectType;
  /** HubSpot's object type id, e.g. `0-2` for companies. */
  typeId: string;
  /** Path names the fake answers under `/crm/v3/objects/…` (besides the contacts routes, which are their own). */
  pathNames: string[];
  /** Every name accepted where an object type is a parameter (properties, associations, pipelines). */
  aliases: string[];
  /** Lower-case singular for messages ("company"), upper-case for the 207 messages ("COMPANY"). */
  singular: string;
  upper: string;
  spec: SpecFile;
  /** The path prefix as written in that spec (deals: `/crm/v3/objects/0-3`) and its id parameter. */
  specBase: string;
  specIdParam: string;
  builtinProperties(): Map<string, Json>;
  builtinGroups(): Map<string, Json>;
  /** Built-in properties whose values are unique per portal (contacts: email). */
  uniqueBuiltins: string[];
  /** Properties compared and stored case-insensitively (lower-cased). */
  caseInsensitive: string[];
  createdProperty: string;
  modifiedProperty: string;
  defaultProperties: string[];
  alwaysReturned: string[];
  queryProperties: string[];
  /** Properties a create must set (after defaults are applied). */
  requiredOnCreate: string[];
}

const SYSTEM = ['createdate', 'hs_lastmodifieddate', 'hs_object_id'];

export const OBJECT_TYPES: Record<CrmObjectType, ObjectTypeDef> = {
  contacts: {
    name: 'contacts',
    typeId: '0-1',
    pathNames: [],
    aliases: ['contacts', 'contact', '0-1'],
    singular: 'contact',
    upper: 'CONTACT',
    spec: 'crm-contacts-v3',
    specBase: '/crm/v3/objects/contacts',
    specIdParam: '{contactId}',
    builtinProperties,
    builtinGroups,
    uniqueBuiltins: ['email'],
    caseInsensitive: ['email'],
    createdProperty: 'createdate',
    modifiedProperty: 'lastmodifieddate',
    defaultProperties: DEFAULT_CONTACT_PROPERTIES,
    alwaysReturned: ALWAYS_RETURNED,
    queryProperties: ['firstname', 'lastname', 'email', 'phone', 'company'],
    requiredOnCreate: [],
  },
  companies: {
    name: 'companies',
    typeId: '0-2',
    pathNames: ['companies', '0-2'],
    aliases: ['companies', 'company', '0-2'],
    singular: 'company',
    upper: 'COMPANY',
    spec: 'crm-companies-v3',
    specBase: '/crm/v3/objects/companies',
    specIdParam: '{companyId}',
    builtinProperties: companyProperties,
    builtinGroups: companyGroups,
    uniqueBuiltins: [],
    caseInsensitive: [],
    createdProperty: 'createdate',
    modifiedProperty: 'hs_lastmodifieddate',
    defaultProperties: ['createdate', 'domain', 'hs_lastmodifieddate', 'hs_object_id', 'name'],
    alwaysReturned: SYSTEM,
    queryProperties: ['name', 'domain', 'website', 'phone'],
    requiredOnCreate: [],
  },
  deals: {
    name: 'deals',
    typeId: '0-3',
    pathNames: ['deals', '0-3'],
    aliases: ['deals', 'deal', '0-3'],
    singular: 'deal',
    upper: 'DEAL',
    spec: 'crm-deals-v3',
    specBase: '/crm/v3/objects/0-3',
    specIdParam: '{dealId}',
    builtinProperties: dealProperties,
    builtinGroups: dealGroups,
    uniqueBuiltins: [],
    caseInsensitive: [],
    createdProperty: 'createdate',
    modifiedProperty: 'hs_lastmodifieddate',
    defaultProperties: ['amount', 'closedate', 'createdate', 'dealname', 'dealstage', 'hs_lastmodifieddate', 'hs_object_id', 'pipeline'],
    alwaysReturned: SYSTEM,
    queryProperties: ['dealname'],
    requiredOnCreate: ['dealname', 'dealstage'],
  },
  tickets: {
    name: 'tickets',
    typeId: '0-5',
    pathNames: ['tickets', '0-5'],
    aliases: ['tickets', 'ticket', '0-5'],
    singular: 'ticket',
    upper: 'TICKET',
    spec: 'crm-tickets-v3',
    specBase: '/crm/v3/objects/tickets',
    specIdParam: '{ticketId}',
    builtinProperties: ticketProperties,
    builtinGroups: ticketGroups,
    uniqueBuiltins: [],
    caseInsensitive: [],
    createdProperty: 'createdate',
    modifiedProperty: 'hs_lastmodifieddate',
    defaultProperties: [
      'content', 'createdate', 'hs_lastmodifieddate', 'hs_object_id', 'hs_pipeline', 'hs_pipeline_stage', 'hs_ticket_category',
      'hs_ticket_priority', 'subject',
    ],
    alwaysReturned: SYSTEM,
    queryProperties: ['subject', 'content'],
    requiredOnCreate: ['subject', 'hs_pipeline_stage'],
  },
  notes: {
    name: 'notes',
    typeId: '0-46',
    pathNames: ['notes', '0-46'],
    aliases: ['notes', 'note', '0-46'],
    singular: 'note',
    upper: 'NOTE',
    spec: 'crm-notes-v3',
    specBase: '/crm/v3/objects/notes',
    specIdParam: '{noteId}',
    builtinProperties: noteProperties,
    builtinGroups: noteGroups,
    uniqueBuiltins: [],
    caseInsensitive: [],
    createdProperty: 'hs_createdate',
    modifiedProperty: 'hs_lastmodifieddate',
    defaultProperties: ['hs_createdate', 'hs_lastmodifieddate', 'hs_object_id'],
    alwaysReturned: ['hs_createdate', 'hs_lastmodifieddate', 'hs_object_id'],
    queryProperties: ['hs_note_body'],
    requiredOnCreate: ['hs_timestamp'],
  },
};

export const CRM_OBJECT_TYPES = Object.keys(OBJECT_TYPES) as CrmObjectType[];

/** The modelled object type a path/parameter name stands for (`company`, `companies`, `0-2` → companies). */
export function objectTypeOf(name: string): CrmObjectType | undefined {
  const n = name.toLowerCase();
  return CRM_OBJECT_TYPES.find((t) => OBJECT_TYPES[t].aliases.includes(n));
}

/** Type ids of every type an association can join (tasks: 0-27). */
export const TYPE_IDS: Record<AssociableType, string> = {
  contacts: '0-1',
  companies: '0-2',
  deals: '0-3',
  tickets: '0-5',
  notes: '0-46',
  tasks: '0-27',
};

/** Like objectTypeOf, tasks included (`task`, `tasks`, `0-27`). */
export function associableTypeOf(name: string): AssociableType | undefined {
  const n = name.toLowerCase();
  if (n === 'tasks' || n === 'task' || n === '0-27') return 'tasks';
  return objectTypeOf(n);
}
