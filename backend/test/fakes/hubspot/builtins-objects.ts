import { builtin, LIFECYCLE_STAGES } from './builtins';

/**
 * HubSpot's built-in properties and groups of companies, deals, tickets and notes that every fake portal starts
 * with (a subset of HubSpot's: the ones a sync writes or reads, plus the system ones). Pipeline properties
 * (`pipeline`/`dealstage`, `hs_pipeline`/`hs_pipeline_stage`) are enumerations whose values are checked against the
 * portal's pipelines (`pipelines.ts`), not against options stored here.
 */

type Json = Record<string, unknown>;

const EPOCH = '2019-08-06T02:43:01.397Z';

function group(name: string, label: string): [string, Json] {
  return [name, { name, label, displayOrder: -1, archived: false }];
}

function options(values: [string, string][]): Json[] {
  return values.map(([value, label], i) => ({ value, label, displayOrder: i, hidden: false }));
}

/** The system properties every object has (`createdate` for notes is `hs_createdate`). */
function system(groupName: string, created = 'createdate'): [string, Json][] {
  return [
    builtin('hs_object_id', 'Record ID', 'number', 'number', { groupName, numberDisplayHint: 'unformatted' }),
    builtin(created, 'Create Date', 'datetime', 'date', { groupName }),
    builtin('hs_lastmodifieddate', 'Last Modified Date', 'datetime', 'date', { groupName }),
  ];
}

export function companyProperties(): Map<string, Json> {
  const g = { groupName: 'companyinformation' };
  return new Map([
    builtin('name', 'Company name', 'string', 'text', g),
    builtin('domain', 'Company Domain Name', 'string', 'text', g),
    builtin('website', 'Website URL', 'string', 'text', g),
    builtin('phone', 'Phone Number', 'string', 'phonenumber', { ...g, textDisplayHint: 'phone_number' }),
    builtin('city', 'City', 'string', 'text', g),
    builtin('country', 'Country/Region', 'string', 'text', g),
    builtin('description', 'Description', 'string', 'textarea', g),
    builtin('numberofemployees', 'Number of Employees', 'number', 'number', g),
    builtin('annualrevenue', 'Annual Revenue', 'number', 'number', g),
    builtin('lifecyclestage', 'Lifecycle Stage', 'enumeration', 'radio', { ...g, options: options(LIFECYCLE_STAGES) }),
    ...system('companyinformation'),
  ]);
}

export function dealProperties(): Map<string, Json> {
  const g = { groupName: 'dealinformation' };
  return new Map([
    builtin('dealname', 'Deal Name', 'string', 'text', g),
    builtin('amount', 'Amount', 'number', 'number', { ...g, showCurrencySymbol: true }),
    builtin('deal_currency_code', 'Currency', 'enumeration', 'select', { ...g, options: options([['USD', 'US Dollar'], ['EUR', 'Euro'], ['GBP', 'British Pound']]) }),
    builtin('pipeline', 'Pipeline', 'enumeration', 'select', g),
    builtin('dealstage', 'Deal Stage', 'enumeration', 'radio', g),
    builtin('closedate', 'Close Date', 'datetime', 'date', g),
    builtin('dealtype', 'Deal Type', 'enumeration', 'radio', { ...g, options: options([['newbusiness', 'New Business'], ['existingbusiness', 'Existing Business']]) }),
    builtin('description', 'Deal Description', 'string', 'textarea', g),
    builtin('hubspot_owner_id', 'Deal owner', 'enumeration', 'select', { ...g, externalOptions: true }),
    ...system('dealinformation'),
  ]);
}

export function ticketProperties(): Map<string, Json> {
  const g = { groupName: 'ticketinformation' };
  return new Map([
    builtin('subject', 'Ticket name', 'string', 'text', g),
    builtin('content', 'Ticket description', 'string', 'textarea', g),
    builtin('hs_pipeline', 'Pipeline', 'enumeration', 'select', g),
    builtin('hs_pipeline_stage', 'Ticket status', 'enumeration', 'radio', g),
    builtin('hs_ticket_priority', 'Priority', 'enumeration', 'select', {
      ...g,
      options: options([['LOW', 'Low'], ['MEDIUM', 'Medium'], ['HIGH', 'High'], ['URGENT', 'Urgent']]),
    }),
    builtin('hs_ticket_category', 'Category', 'enumeration', 'checkbox', {
      ...g,
      options: options([['PRODUCT_ISSUE', 'Product issue'], ['BILLING_ISSUE', 'Billing issue'], ['FEATURE_REQUEST', 'Feature request'], ['GENERAL_INQUIRY', 'General inquiry']]),
    }),
    builtin('hubspot_owner_id', 'Ticket owner', 'enumeration', 'select', { ...g, externalOptions: true }),
    ...system('ticketinformation'),
  ]);
}

export function noteProperties(): Map<string, Json> {
  const g = { groupName: 'engagement' };
  return new Map([
    builtin('hs_note_body', 'Note body', 'string', 'html', g),
    builtin('hs_timestamp', 'Activity date', 'datetime', 'date', g),
    builtin('hubspot_owner_id', 'Activity assigned to', 'enumeration', 'select', { ...g, externalOptions: true }),
    builtin('hs_attachment_ids', 'Attached file IDs', 'enumeration', 'checkbox', { ...g, externalOptions: true }),
    ...system('engagement', 'hs_createdate'),
  ]);
}

export const companyGroups = (): Map<string, Json> => new Map([group('companyinformation', 'Company information')]);
export const dealGroups = (): Map<string, Json> => new Map([group('dealinformation', 'Deal information')]);
export const ticketGroups = (): Map<string, Json> => new Map([group('ticketinformation', 'Ticket information')]);
export const noteGroups = (): Map<string, Json> => new Map([group('engagement', 'Engagement')]);

/** Properties whose values are free-form for the checks in this fake (external options: owner ids, file ids). */
export const EXTERNAL_OPTION_PROPERTIES = new Set(['hubspot_owner_id', 'hs_attachment_ids']);

export { EPOCH as BUILTIN_EPOCH };
