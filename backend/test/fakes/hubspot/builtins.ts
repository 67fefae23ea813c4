/** HubSpot's built-in contact properties and groups that every fake portal starts with. */

type Json = Record<string, unknown>;

const EPOCH = '2019-08-06T02:43:01.397Z';

export const LIFECYCLE_STAGES: [string, string][] = [
  ['subscriber', 'Subscriber'],
  ['lead', 'Lead'],
  ['marketingqualifiedlead', 'Marketing Qualified Lead'],
  ['salesqualifiedlead', 'Sales Qualified Lead'],
  ['opportunity', 'Opportunity'],
  ['customer', 'Customer'],
  ['evangelist', 'Evangelist'],
  ['other', 'Other'],
];

/** Properties that only HubSpot writes; setting them is a READ_ONLY_VALUE error. */
export const READ_ONLY_PROPERTIES = new Set(['hs_object_id', 'lastmodifieddate', 'hs_lastmodifieddate']);

/** Returned when a read names no properties (HubSpot's defaults for contacts). */
export const DEFAULT_CONTACT_PROPERTIES = ['createdate', 'email', 'firstname', 'hs_object_id', 'lastmodifieddate', 'lastname'];

/** Always returned alongside the properties a read asks for. */
export const ALWAYS_RETURNED = ['createdate', 'hs_object_id', 'lastmodifieddate'];

/** A HubSpot-defined property definition (group `contactinformation` unless `extra.groupName` says otherwise). */
export function builtin(
  name: string,
  label: string,
  type: string,
  fieldType: string,
  extra: Json = {},
): [string, Json] {
  const readOnly = READ_ONLY_PROPERTIES.has(name);
  return [
    name,
    {
      name,
      label,
      type,
      fieldType,
      description: '',
      groupName: 'contactinformation',
      options: [],
      displayOrder: -1,
      calculated: false,
      externalOptions: false,
      hasUniqueValue: false,
      hidden: false,
      hubspotDefined: true,
      formField: !readOnly,
      createdAt: EPOCH,
      updatedAt: EPOCH,
      archived: false,
      modificationMetadata: { archivable: false, readOnlyDefinition: true, readOnlyValue: readOnly },
      ...extra,
    },
  ];
}

export function builtinProperties(): Map<string, Json> {
  return new Map([
    builtin('email', 'Email', 'string', 'text', { textDisplayHint: 'email' }),
    builtin('firstname', 'First Name', 'string', 'text'),
    builtin('lastname', 'Last Name', 'string', 'text'),
    builtin('phone', 'Phone Number', 'string', 'phonenumber', { textDisplayHint: 'phone_number' }),
    builtin('company', 'Company Name', 'string', 'text'),
    builtin('lifecyclestage', 'Lifecycle Stage', 'enumeration', 'radio', {
      options: LIFECYCLE_STAGES.map(([value, label], i) => ({ value, label, displayOrder: i, hidden: false })),
    }),
    builtin('hs_object_id', 'Record ID', 'number', 'number', { numberDisplayHint: 'unformatted' }),
    builtin('createdate', 'Create Date', 'datetime', 'date'),
    builtin('lastmodifieddate', 'Last Modified Date', 'datetime', 'date'),
  ]);
}

export function builtinGroups(): Map<string, Json> {
  return new Map([
    ['contactinformation', { name: 'contactinformation', label: 'Contact information', displayOrder: -1, archived: false }],
  ]);
}

/** Task properties accepted by `POST /crm/v3/objects/tasks` (enumerations with their options). */
export const TASK_PROPERTIES: Record<string, { type: string; options?: string[] }> = {
  hs_timestamp: { type: 'datetime' },
  hs_task_body: { type: 'string' },
  hs_task_subject: { type: 'string' },
  hs_task_status: { type: 'enumeration', options: ['NOT_STARTED', 'IN_PROGRESS', 'WAITING', 'COMPLETED', 'DEFERRED'] },
  hs_task_priority: { type: 'enumeration', options: ['NONE', 'LOW', 'MEDIUM', 'HIGH'] },
  hs_task_type: { type: 'enumeration', options: ['TODO', 'CALL', 'EMAIL', 'LINKED_IN', 'MEETING'] },
  hs_task_reminders: { type: 'string' },
  hubspot_owner_id: { type: 'string' },
};

/** HUBSPOT_DEFINED association type ids from a task, by target object. */
export const TASK_TO_CONTACT_TYPE_ID = 204;
