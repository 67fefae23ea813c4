import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFakeSalesforce, type FakeSalesforce } from '../fakes/salesforce/server';

/**
 * The fake Salesforce alone, over real HTTP: its answers have the shapes of the documented example bodies kept in
 * `specs/salesforce/` (same keys, same value types), and it models the org's allowance, 401 and 5xx.
 */

const SPECS = join(__dirname, '../../../specs/salesforce');
const spec = (name: string): unknown => JSON.parse(readFileSync(join(SPECS, name), 'utf8'));

/** The shape of a JSON value: key → type, recursively (arrays by their first item). */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length > 0 ? [shape(v[0])] : [];
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, shape(x)]));
  return v === null ? 'null' : typeof v;
}

describe('fake Salesforce', () => {
  let sf: FakeSalesforce;
  beforeEach(async () => {
    sf = await startFakeSalesforce({ dailyMax: 5000 });
  });
  afterEach(async () => {
    await sf.close();
  });

  const call = async (method: string, path: string, body?: unknown, token = sf.accessToken) => {
    const res = await fetch(`${sf.url}/services/data/${sf.apiVersion}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, limit: res.headers.get('sforce-limit-info'), body: (await res.json()) as unknown };
  };
  const contact = (id: string, over: Record<string, unknown> = {}) => ({ attributes: { type: 'Contact' }, Stripe_Customer_Id__c: id, LastName: 'Lovelace', Email: `${id}@example.com`, ...over });

  it('answers the limits and the upsert in the documented shapes, with Sforce-Limit-Info on every answer', async () => {
    const limits = await call('GET', '/limits');
    expect(limits.status).toBe(200);
    expect(shape((limits.body as Record<string, unknown>).DailyApiRequests)).toEqual(shape((spec('limits.response.json') as Record<string, unknown>).DailyApiRequests));
    expect(limits.body).toEqual({ DailyApiRequests: { Max: 5000, Remaining: 4999 } });
    expect(limits.limit).toBe('api-usage=1/5000');
    expect(readFileSync(join(SPECS, 'headers.txt'), 'utf8')).toMatch(/^Sforce-Limit-Info: api-usage=\d+\/\d+/);

    // The documented request shape (attributes.type, allOrNone) against the documented external-id upsert.
    const documented = spec('composite-sobjects-upsert.request.json') as { allOrNone: boolean; records: Record<string, unknown>[] };
    sf.controls.addField('Account', { name: 'MyExtId__c', externalId: true, unique: true });
    const first = await call('PATCH', '/composite/sobjects/Account/MyExtId__c', documented);
    expect(first.limit).toBe('api-usage=2/5000');
    const again = await call('PATCH', '/composite/sobjects/Account/MyExtId__c', { ...documented, records: [{ ...documented.records[0], Name: 'Company One, Inc.' }] });
    const results = [...(first.body as unknown[]), ...(again.body as unknown[])];
    const example = spec('composite-sobjects-upsert.response.json') as unknown[];
    expect(shape(results[0])).toEqual(shape(example[0])); // created
    expect(shape(results[2])).toEqual(shape(example[1])); // updated
    expect(results.map((r) => (r as { created?: boolean }).created)).toEqual([true, true, false]);
    expect(sf.controls.find('Account', 'MyExtId__c', 'AAA')).toEqual([expect.objectContaining({ Name: 'Company One, Inc.' })]);
  });

  it('upserts contacts by Stripe_Customer_Id__c with per-record errors in the documented shape', async () => {
    sf.controls.addField('Contact', { name: 'Stripe_Email_Key__c', unique: true });
    const a = await call('PATCH', '/composite/sobjects/Contact/Stripe_Customer_Id__c', {
      allOrNone: false,
      records: [
        contact('cus_1', { Stripe_Email_Key__c: 'k1' }),
        contact('cus_2', { Email: 'not-an-email' }),
        contact('cus_3', { Stripe_Mrr__c: 10 }),
        contact('cus_4', { LastName: null }),
        contact('cus_5', { Stripe_Email_Key__c: 'k1' }),
      ],
    });
    expect(a.status).toBe(200);
    const r = a.body as { id?: string; success: boolean; created?: boolean; errors: { statusCode: string; message: string; fields: string[] }[] }[];
    expect(r[0]).toMatchObject({ success: true, created: true, errors: [] });
    expect(r[0]!.id).toMatch(/^003[A-Za-z0-9]{15}$/);
    expect(r[1]!.errors[0]).toEqual({ statusCode: 'INVALID_EMAIL_ADDRESS', message: 'Email: invalid email address: not-an-email', fields: ['Email'] });
    expect(r[2]!.errors[0]).toMatchObject({ statusCode: 'INVALID_FIELD', fields: ['Stripe_Mrr__c'] });
    expect(r[3]!.errors[0]).toMatchObject({ statusCode: 'REQUIRED_FIELD_MISSING' });
    expect(r[4]!.errors[0]).toMatchObject({ statusCode: 'DUPLICATE_VALUE', message: `duplicate value found: Stripe_Email_Key__c duplicates value on record with id: ${r[0]!.id}` });
    const example = spec('composite-sobjects-upsert.response.json') as unknown[];
    expect(shape(r[4])).toEqual(shape(example[2]));
    expect(sf.state.records.get('Contact')!.size).toBe(1);

    // allOrNone: true rolls every record back.
    const all = await call('PATCH', '/composite/sobjects/Contact/Stripe_Customer_Id__c', { allOrNone: true, records: [contact('cus_9'), contact('cus_10', { Email: 'bad' })] });
    expect((all.body as { success: boolean; errors: { statusCode: string }[] }[]).map((x) => x.success)).toEqual([false, false]);
    expect(sf.controls.find('Contact', 'Stripe_Customer_Id__c', 'cus_9')).toHaveLength(0);

    // More than 200 records, or a record without attributes: the whole request is refused.
    const big = await call('PATCH', '/composite/sobjects/Contact/Stripe_Customer_Id__c', { records: Array.from({ length: 201 }, (_, i) => contact(`cus_b${i}`)) });
    expect(big.status).toBe(400);
    expect(big.body).toEqual([{ message: expect.stringContaining('200'), errorCode: 'EXCEEDED_ID_LIMIT' }]);
    expect((await call('PATCH', '/composite/sobjects/Contact/Stripe_Customer_Id__c', { records: [{ LastName: 'x', Stripe_Customer_Id__c: 'c' }] })).status).toBe(400);
  });

  it('upserts opportunities by Stripe_Subscription_Id__c (created, then updated)', async () => {
    const opp = (over: Record<string, unknown> = {}) => ({ attributes: { type: 'Opportunity' }, Stripe_Subscription_Id__c: 'sub_1', Name: 'Pro', StageName: 'Closed Won', CloseDate: '2026-01-31', Amount: 49, ...over });
    const a = await call('PATCH', '/composite/sobjects/Opportunity/Stripe_Subscription_Id__c', { allOrNone: false, records: [opp()] });
    const b = await call('PATCH', '/composite/sobjects/Opportunity/Stripe_Subscription_Id__c', { allOrNone: false, records: [opp({ Amount: 99 })] });
    expect((a.body as { created: boolean }[])[0]!.created).toBe(true);
    expect((b.body as { created: boolean; id: string }[])[0]).toMatchObject({ created: false, id: (a.body as { id: string }[])[0]!.id });
    expect(sf.controls.find('Opportunity', 'Stripe_Subscription_Id__c', 'sub_1')).toEqual([expect.objectContaining({ Amount: 99 })]);
    const missing = await call('PATCH', '/composite/sobjects/Opportunity/Stripe_Subscription_Id__c', { records: [opp({ Name: undefined, Stripe_Subscription_Id__c: 'sub_2' })] });
    expect((missing.body as { errors: { statusCode: string }[] }[])[0]!.errors[0]!.statusCode).toBe('REQUIRED_FIELD_MISSING');
  });

  it('resolves relationships by external id, keeps StageName to its picklist and ContactId to create, in the documented shapes', async () => {
    const described = (await call('GET', '/sobjects/Opportunity/describe')).body as { fields: { name: string }[] };
    const excerpt = spec('opportunity-describe.excerpt.json') as { fields: { name: string }[] };
    for (const f of excerpt.fields) expect(shape(described.fields.find((x) => x.name === f.name))).toEqual(shape(f));
    expect(described.fields.find((x) => x.name === 'ContactId')).toMatchObject({ createable: true, updateable: false, relationshipName: 'Contact', referenceTo: ['Contact'] });

    await call('PATCH', '/composite/sobjects/Account/Stripe_Customer_Id__c', { records: [{ attributes: { type: 'Account' }, Stripe_Customer_Id__c: 'cus_P0Example', Name: 'Acme' }] });
    await call('PATCH', '/composite/sobjects/Contact/Stripe_Customer_Id__c', { records: [contact('cus_P0Example', { Account: { Stripe_Customer_Id__c: 'cus_P0Example' } })] });
    const documented = spec('composite-sobjects-upsert-relationships.request.json') as { records: Record<string, unknown>[] };
    const created = await call('PATCH', '/composite/sobjects/Opportunity/Stripe_Subscription_Id__c', documented);
    expect(created.body).toEqual([expect.objectContaining({ success: true, created: true })]);
    const [account] = sf.controls.find('Account', 'Stripe_Customer_Id__c', 'cus_P0Example');
    const [person] = sf.controls.find('Contact', 'Stripe_Customer_Id__c', 'cus_P0Example');
    expect(person).toMatchObject({ AccountId: account!.Id });
    expect(sf.controls.find('Opportunity', 'Stripe_Subscription_Id__c', 'sub_1Nv0Example')).toEqual([expect.objectContaining({ AccountId: account!.Id, ContactId: person!.Id })]);
    expect(sf.controls.find('Opportunity', 'Stripe_Subscription_Id__c', 'sub_1Nv0Example')[0]).not.toHaveProperty('Account');

    const opp = documented.records[0]!;
    // Again, now that it exists (ContactId is set only on create); and a new one without its Name.
    const refused = await call('PATCH', '/composite/sobjects/Opportunity/Stripe_Subscription_Id__c', {
      records: [opp, { ...opp, Stripe_Subscription_Id__c: 'sub_4', Contact: undefined, Name: null }].map((r) => JSON.parse(JSON.stringify(r)) as Record<string, unknown>),
    });
    const results = refused.body as { success: boolean; errors: unknown[] }[];
    sf.controls.setPicklist('Opportunity', 'StageName', ['Prospecting', 'Closed Won', 'Closed Lost']);
    const again = await call('PATCH', '/composite/sobjects/Opportunity/Stripe_Subscription_Id__c', {
      records: [
        { ...opp, Stripe_Subscription_Id__c: 'sub_5', Account: { Stripe_Customer_Id__c: 'cus_unknown' } },
        { ...opp, Stripe_Subscription_Id__c: 'sub_6', StageName: 'Negotiation/Review' },
      ],
    });
    const errors = [...(again.body as { errors: unknown[] }[]).map((r) => r.errors[0]), results[0]!.errors[0], results[1]!.errors[0]];
    expect(errors).toEqual((spec('upsert-record-errors.response.json') as { errors: unknown[] }[]).map((r) => ({ ...(r.errors[0] as object), message: expect.any(String) })));
    expect(errors.map((e) => (e as { message: string }).message)).toEqual([
      'Foreign key external ID: cus_unknown not found for field Stripe_Customer_Id__c in entity Account',
      'Stage: bad value for restricted picklist field: Negotiation/Review',
      expect.stringMatching(/^Unable to create\/update fields: ContactId\./),
      'Required fields are missing: [Name]',
    ]);
  });

  it('a single upsert by external id answers 201, then 200, and 300 with the records when several hold the value', async () => {
    const path = '/sobjects/Opportunity/Stripe_Subscription_Id__c/sub_one';
    const body = { Name: 'Pro', StageName: 'Closed Won', CloseDate: '2026-02-02' };
    expect(await call('PATCH', path, body)).toMatchObject({ status: 201, body: { success: true, created: true } });
    expect(await call('PATCH', path, { ...body, Amount: 10 })).toMatchObject({ status: 200, body: { success: true, created: false } });
    sf.controls.addField('Opportunity', { name: 'Stripe_Subscription_Id__c', externalId: true, unique: false });
    const copy = sf.controls.insert('Opportunity', { Name: 'Imported', Stripe_Subscription_Id__c: 'sub_one' });
    const multiple = await call('PATCH', path, { ...body, Amount: 20 });
    expect(multiple.status).toBe(300);
    expect(shape(multiple.body)).toEqual(shape(spec('sobject-upsert-multiple.response.json')));
    expect(multiple.body).toContain(`/services/data/${sf.apiVersion}/sobjects/Opportunity/${copy}`);
    expect(sf.controls.find('Opportunity', 'Stripe_Subscription_Id__c', 'sub_one').map((r) => r.Amount)).toEqual([10, undefined]);
    // The collection answers the same conflict per record.
    const collection = await call('PATCH', '/composite/sobjects/Opportunity/Stripe_Subscription_Id__c', { records: [{ attributes: { type: 'Opportunity' }, Stripe_Subscription_Id__c: 'sub_one', ...body }] });
    expect(collection.body).toEqual([{ success: false, errors: [expect.objectContaining({ statusCode: 'DUPLICATE_EXTERNAL_ID', fields: ['Stripe_Subscription_Id__c'] })] }]);
  });

  it('describes an object with the custom fields the org has', async () => {
    const d = await call('GET', '/sobjects/Contact/describe');
    const body = d.body as { name: string; fields: { name: string; externalId: boolean }[] };
    expect(shape({ ...body, fields: [body.fields[0]] })).toEqual(shape(spec('sobject-describe.excerpt.json')));
    expect(body.fields.find((f) => f.name === 'Stripe_Customer_Id__c')).toMatchObject({ externalId: true, custom: true });
    sf.controls.addField('Contact', { name: 'Stripe_Mrr__c', type: 'currency' });
    const again = (await call('GET', '/sobjects/Contact/describe')).body as { fields: { name: string }[] };
    expect(again.fields.map((f) => f.name)).toContain('Stripe_Mrr__c');
    sf.controls.removeObject('Stripe_Payment__c');
    expect(await call('GET', '/sobjects/Stripe_Payment__c/describe')).toMatchObject({ status: 404, body: [{ errorCode: 'NOT_FOUND' }] });
  });

  it('answers the SOQL subset the sync sends in the documented shape, paged through nextRecordsUrl; anything else is MALFORMED_QUERY', async () => {
    const q = (soql: string) => call('GET', `/query?q=${encodeURIComponent(soql)}`);
    const ids = [
      sf.controls.insert('Contact', { Email: 'Ada@Example.com', LastName: 'A', LastModifiedDate: '2025-01-01T00:00:00.000+0000' }),
      sf.controls.insert('Contact', { Email: 'ada@example.com', LastName: 'B', LastModifiedDate: '2026-01-01T00:00:00.000+0000' }),
      sf.controls.insert('Contact', { Email: "o'brien\\x@example.com", LastName: 'C', LastModifiedDate: '2024-01-01T00:00:00.000+0000' }),
      sf.controls.insert('Contact', { Email: 'ada@example.com', LastName: 'D', Stripe_Customer_Id__c: 'cus_1' }),
    ];
    sf.controls.setQueryBatchSize(2);
    const soql = "select Id, Email, LastModifiedDate from Contact where Stripe_Customer_Id__c = NULL and email in ('ADA@example.com', 'o\\'brien\\\\x@example.com') order by LastModifiedDate desc";
    const first = await q(soql);
    expect(first.status).toBe(200);
    const documented = spec('query.response.json') as { nextRecordsUrl: string };
    expect(shape(first.body)).toEqual(shape(documented));
    const page1 = first.body as { totalSize: number; done: boolean; nextRecordsUrl: string; records: { Id: string; attributes: { url: string } }[] };
    expect(page1).toMatchObject({ totalSize: 3, done: false });
    expect(page1.records.map((r) => r.Id)).toEqual([ids[1], ids[0]]);
    expect(page1.records[0]!.attributes.url).toBe(`/services/data/${sf.apiVersion}/sobjects/Contact/${ids[1]}`);
    expect(page1.nextRecordsUrl).toMatch(new RegExp(`^/services/data/${sf.apiVersion.replace('.', '\\.')}/query/[A-Za-z0-9]+-2$`));
    const next = await fetch(`${sf.url}${page1.nextRecordsUrl}`, { headers: { authorization: `Bearer ${sf.accessToken}` } });
    const page2 = (await next.json()) as Record<string, unknown>;
    expect(page2).toEqual({ totalSize: 3, done: true, records: [expect.objectContaining({ Id: ids[2], Email: "o'brien\\x@example.com", LastModifiedDate: '2024-01-01T00:00:00.000+0000' })] });
    const { nextRecordsUrl: _next, ...done } = documented;
    expect(shape(page2)).toEqual(shape({ ...done, done: true }));
    // The locator is spent once read to the end.
    expect(await fetch(`${sf.url}${page1.nextRecordsUrl}`, { headers: { authorization: `Bearer ${sf.accessToken}` } }).then((r) => r.status)).toBe(400);

    const malformed = await q('SELECT Id FROM Contact WHERE');
    expect(malformed.status).toBe(400);
    expect(shape(malformed.body)).toEqual(shape(spec('query-malformed.response.json')));
    expect(malformed.body).toEqual([{ errorCode: 'MALFORMED_QUERY', message: expect.stringContaining("unexpected token: '<EOF>'") }]);
    for (const bad of [
      "SELECT Id FROM Contact WHERE Email LIKE 'a%'",
      "SELECT Id FROM Contact WHERE Email = 'a' OR Email = 'b'",
      "SELECT Id FROM Contact WHERE Email != null",
      "SELECT Id FROM Contact WHERE Email IN ('a\\q')",
      "SELECT Id FROM Contact WHERE Email IN ('a'",
      'SELECT Id FROM Contact LIMIT x',
      'SELECT COUNT() FROM Contact',
    ]) {
      expect([bad.slice(0, 60), (await q(bad)).body]).toEqual([bad.slice(0, 60), [expect.objectContaining({ errorCode: 'MALFORMED_QUERY' })]]);
    }
    // A query string beyond the request URI limit (16,384 bytes with the headers) is refused before any SOQL is read.
    const long = `SELECT Id FROM Contact WHERE Email IN (${Array.from({ length: 800 }, (_, i) => `'someone.${i}@example.com'`).join(', ')})`;
    expect((await fetch(`${sf.url}/services/data/${sf.apiVersion}/query?q=${encodeURIComponent(long)}`, { headers: { authorization: `Bearer ${sf.accessToken}` } })).status).toBe(431);
    expect((await q('SELECT Id, Nope__c FROM Contact')).body).toEqual([expect.objectContaining({ errorCode: 'INVALID_FIELD', message: expect.stringContaining("No such column 'Nope__c'") })]);
    expect((await q('SELECT Id FROM Nope__c')).body).toEqual([expect.objectContaining({ errorCode: 'INVALID_TYPE' })]);
    expect((await q("SELECT LastName FROM Contact WHERE LastName = 'b' LIMIT 1")).body).toMatchObject({ totalSize: 1, records: [{ LastName: 'B' }] });
  });

  it('updates records by id with sObject Collections: a SaveResult per record, in order', async () => {
    const one = sf.controls.insert('Contact', { Email: 'a@example.com', LastName: 'A', LastModifiedDate: '2024-01-01T00:00:00.000+0000' });
    sf.controls.insert('Contact', { LastName: 'Holder', Stripe_Customer_Id__c: 'cus_2' });
    const two = sf.controls.insert('Contact', { Email: 'b@example.com', LastName: 'B' });
    const record = (id: unknown, over: Record<string, unknown> = {}) => ({ attributes: { type: 'Contact' }, id, ...over });
    const a = await call('PATCH', '/composite/sobjects', {
      allOrNone: false,
      records: [
        record(one, { Stripe_Customer_Id__c: 'cus_1' }),
        record(two, { Stripe_Customer_Id__c: 'cus_2' }),
        record('003000000000000AAA', { Stripe_Customer_Id__c: 'cus_3' }),
        record('nope', { LastName: 'x' }),
        record(undefined, { LastName: 'x' }),
        record(two, { LastModifiedDate: '2020-01-01T00:00:00.000+0000' }),
      ],
    });
    expect(a.status).toBe(200);
    expect(a.body).toEqual([
      { id: one, success: true, errors: [] },
      { success: false, errors: [{ statusCode: 'DUPLICATE_VALUE', message: expect.stringContaining('duplicates value on record with id'), fields: [] }] },
      { success: false, errors: [{ statusCode: 'ENTITY_IS_DELETED', message: 'entity is deleted', fields: [] }] },
      { success: false, errors: [expect.objectContaining({ statusCode: 'MALFORMED_ID' })] },
      { success: false, errors: [expect.objectContaining({ statusCode: 'MISSING_ARGUMENT' })] },
      { success: false, errors: [expect.objectContaining({ statusCode: 'INVALID_FIELD_FOR_INSERT_UPDATE', fields: ['LastModifiedDate'] })] },
    ]);
    const updated = sf.state.records.get('Contact')!.get(one)!;
    expect(updated).toMatchObject({ Stripe_Customer_Id__c: 'cus_1', Email: 'a@example.com' });
    expect(String(updated.LastModifiedDate) > '2025').toBe(true);
    expect(updated.LastModifiedDate).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/);
    // allOrNone rolls every record back; more than 200 records, or a record without a type, refuse the request.
    const all = await call('PATCH', '/composite/sobjects', { allOrNone: true, records: [record(two, { LastName: 'Changed' }), record(two, { LastName: null })] });
    expect((all.body as { success: boolean }[]).map((x) => x.success)).toEqual([false, false]);
    expect(sf.state.records.get('Contact')!.get(two)!.LastName).toBe('B');
    expect((await call('PATCH', '/composite/sobjects', { records: Array.from({ length: 201 }, () => record(two)) })).body).toEqual([expect.objectContaining({ errorCode: 'EXCEEDED_ID_LIMIT' })]);
    expect((await call('PATCH', '/composite/sobjects', { records: [{ id: two, LastName: 'x' }] })).status).toBe(400);
  });

  it('refuses a wrong or expired token with 401 INVALID_SESSION_ID', async () => {
    const errors = spec('errors.json') as Record<string, unknown>;
    const wrong = await call('GET', '/limits', undefined, 'nope');
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual(errors['401 INVALID_SESSION_ID']);
    const old = sf.accessToken;
    const fresh = sf.controls.expireToken();
    expect((await call('GET', '/limits', undefined, old)).status).toBe(401);
    expect((await call('GET', '/limits', undefined, fresh)).status).toBe(200);
  });

  it('spends a rolling allowance and answers 403 REQUEST_LIMIT_EXCEEDED once it is spent', async () => {
    sf.controls.setAllowance(10, 8);
    expect((await call('GET', '/limits')).limit).toBe('api-usage=9/10');
    expect((await call('GET', '/limits')).limit).toBe('api-usage=10/10');
    const refused = await call('GET', '/limits');
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual((spec('errors.json') as Record<string, unknown>)['403 REQUEST_LIMIT_EXCEEDED']);
    expect(refused.limit).toBe('api-usage=10/10');
    expect(sf.state.limitRefusals).toBe(1);
    expect(sf.controls.apiUsage()).toEqual({ used: 10, max: 10 });
  });

  it('the allowance is a rolling window: requests leave it after windowMs', async () => {
    const short = await startFakeSalesforce({ dailyMax: 2, windowMs: 300 });
    try {
      const get = () => fetch(`${short.url}/services/data/${short.apiVersion}/limits`, { headers: { authorization: `Bearer ${short.accessToken}` } });
      expect((await get()).status).toBe(200);
      expect((await get()).status).toBe(200);
      expect((await get()).status).toBe(403);
      await new Promise((r) => setTimeout(r, 350));
      expect((await get()).status).toBe(200);
    } finally {
      await short.close();
    }
  });

  it('injects 5xx answers (not counted against the allowance)', async () => {
    sf.controls.failNext(1, 503);
    const failed = await call('GET', '/limits');
    expect(failed.status).toBe(503);
    expect(failed.body).toEqual([expect.objectContaining({ errorCode: 'SERVER_UNAVAILABLE' })]);
    expect((await call('GET', '/limits')).limit).toBe('api-usage=1/5000');
    expect(sf.state.calls['GET /limits']).toBe(2);
  });
});
