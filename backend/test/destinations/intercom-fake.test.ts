import { startFakeIntercom, type FakeIntercom } from '../fakes/intercom/server';

/**
 * The fake Intercom alone, over real HTTP: what it takes from Intercom's published 2.14 document and documentation
 * (auth, version header, request schemas, data attributes before use, 409s, event de-duplication, rate periods and
 * their headers), so the adapter's tests stand on a contract rather than on the fake's whims.
 */

describe('fake Intercom', () => {
  let fake: FakeIntercom;

  afterEach(async () => {
    // Every answer the fake gave matched the response schema the document gives for its status.
    expect(fake.state.answerProblems).toEqual([]);
    await fake.close();
  });

  const call = async (method: string, path: string, body?: unknown, opts: { token?: string | null; version?: string | null } = {}) => {
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = opts.token === undefined ? fake.token : opts.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    const version = opts.version === undefined ? '2.14' : opts.version;
    if (version !== null) headers['intercom-version'] = version;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${fake.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, any>) : null };
  };
  const firstError = (b: Record<string, any> | null) => (b?.errors as { code: string; message: string }[] | undefined)?.[0];

  it('takes a bearer token only: 401 error.list for none, a wrong one or a revoked one, without rate headers', async () => {
    fake = await startFakeIntercom({ appName: 'Acme Support' });
    const me = await call('GET', '/me');
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ type: 'admin', app: { type: 'app', name: 'Acme Support' } });
    for (const token of [null, 'wrong']) {
      const r = await call('GET', '/me', undefined, { token });
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ type: 'error.list', errors: [{ code: 'unauthorized', message: 'Access Token Invalid' }] });
      expect(r.headers.get('x-ratelimit-limit')).toBeNull();
    }
    fake.controls.revokeToken();
    expect((await call('GET', '/me')).status).toBe(401);
    expect(fake.state.calls['GET /me']).toBe(4);
  });

  it('takes the versions the document lists in Intercom-Version, and records the one sent', async () => {
    fake = await startFakeIntercom();
    expect((await call('GET', '/me', undefined, { version: '2.14' })).status).toBe(200);
    expect((await call('GET', '/me', undefined, { version: null })).status).toBe(200);
    const bad = await call('GET', '/me', undefined, { version: '9.99' });
    expect(bad.status).toBe(400);
    expect(firstError(bad.body)?.code).toBe('intercom_version_invalid');
    expect(fake.state.requests.map((r) => r.version)).toEqual(['2.14', null, '9.99']);
  });

  it('refuses request bodies that break the spec', async () => {
    fake = await startFakeIntercom();
    const cases: [string, string, unknown][] = [
      ['POST', '/contacts', {}], // create_contact_request: one of email, external_id or role
      ['POST', '/contacts', { email: 42 }],
      ['PUT', '/contacts/abc', { unsubscribed_from_emails: 'yes' }],
      ['POST', '/contacts/search', { pagination: { per_page: 5 } }], // query is required
      ['POST', '/contacts/search', { query: { field: 'email', operator: 'LIKE', value: 'a@b.co' } }],
      ['POST', '/data_attributes', { name: 'Plan', model: 'contact', data_type: 'mithril' }],
      ['POST', '/data_attributes', { name: 'Plan', data_type: 'string' }],
      ['POST', '/events', { event_name: 'Paid', user_id: 'cus_1' }], // created_at is required
      ['POST', '/events', { event_name: 'Paid', created_at: 1_760_000_000, user_id: 'cus_1', metadata: { nested: { a: 1 } } }],
      ['POST', '/events', { event_name: 'Paid', created_at: 1_760_000_000, user_id: 'cus_1', metadata: { price: { amount: 4.5, currency: 'usd' } } }],
    ];
    for (const [method, path, body] of cases) {
      const r = await call(method, path, body);
      expect([method, path, r.status, firstError(r.body)?.code]).toEqual([method, path, 400, 'parameter_invalid']);
    }
    expect(fake.state.contacts.size).toBe(0);
    expect(fake.state.events).toEqual([]);
  });

  it('custom attributes must be created before use; a wrong type is refused; dates take unix seconds', async () => {
    fake = await startFakeIntercom();
    const created = await call('POST', '/contacts', { role: 'user', external_id: 'cus_1', email: 'a@example.com', custom_attributes: { plan: 'Pro' } });
    expect(created.status).toBe(400);
    expect(firstError(created.body)).toEqual({ code: 'parameter_not_found', message: "Custom attribute 'plan' does not exist" });
    expect(fake.state.contacts.size).toBe(0);

    for (const [name, data_type] of [['plan', 'string'], ['mrr', 'float'], ['since', 'date']]) {
      const a = await call('POST', '/data_attributes', { name, model: 'contact', data_type });
      expect(a.status).toBe(200);
      expect(a.body).toMatchObject({ type: 'data_attribute', name, full_name: `custom_attributes.${name}`, data_type, custom: true, model: 'contact' });
    }
    const again = await call('POST', '/data_attributes', { name: 'plan', model: 'contact', data_type: 'string' });
    expect(again.status).toBe(400);
    expect(firstError(again.body)?.message).toContain("You already have 'plan'");
    const badName = await call('POST', '/data_attributes', { name: 'a.b!', model: 'contact', data_type: 'string' });
    expect(firstError(badName.body)?.message).toBe('Your name for this attribute must only contain alphanumeric characters, currency symbols, and hyphens');

    const list = await call('GET', '/data_attributes?model=contact');
    expect(list.body!.data.filter((d: { custom: boolean }) => d.custom).map((d: { name: string }) => d.name)).toEqual(['plan', 'mrr', 'since']);

    const wrongDate = await call('POST', '/contacts', { role: 'user', external_id: 'cus_1', custom_attributes: { since: '2024-03-01' } });
    expect(wrongDate.status).toBe(400);
    expect(firstError(wrongDate.body)?.code).toBe('parameter_invalid');
    const ok = await call('POST', '/contacts', { role: 'user', external_id: 'cus_1', email: 'a@example.com', custom_attributes: { plan: 'Pro', mrr: 49.5, since: 1_709_251_200 } });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ type: 'contact', role: 'user', external_id: 'cus_1', custom_attributes: { plan: 'Pro', mrr: 49.5, since: 1_709_251_200 } });
  });

  it('409 on a taken external_id or the email of a user without one; find, search, update, delete', async () => {
    fake = await startFakeIntercom({ searchDelayMs: 60_000 });
    const seeded = fake.controls.seedContact({ email: 'old@example.com' });
    const first = await call('POST', '/contacts', { role: 'user', external_id: 'cus_1', email: 'one@example.com' });
    expect(first.status).toBe(200);
    const dupId = await call('POST', '/contacts', { role: 'user', external_id: 'cus_1', email: 'other@example.com' });
    expect(dupId.status).toBe(409);
    expect(firstError(dupId.body)).toEqual({ code: 'conflict', message: `A contact matching those details already exists with id=${first.body!.id}` });
    const dupEmail = await call('POST', '/contacts', { role: 'user', external_id: 'cus_2', email: 'OLD@example.com' });
    expect(dupEmail.status).toBe(409);
    expect(firstError(dupEmail.body)?.message).toContain(`id=${seeded.id}`);

    expect((await call('GET', '/contacts/find_by_external_id/cus_1')).body).toMatchObject({ id: first.body!.id, email: 'one@example.com' });
    const missing = await call('GET', '/contacts/find_by_external_id/cus_9');
    expect([missing.status, firstError(missing.body)]).toEqual([404, { code: 'not_found', message: 'User Not Found' }]);

    // Search sees the seeded contact, not yet the one just made (Intercom's documented creation delay).
    const search = (value: string) => call('POST', '/contacts/search', { query: { field: 'email', operator: '=', value } });
    expect((await search('old@example.com')).body).toMatchObject({ type: 'list', total_count: 1, data: [{ id: seeded.id }] });
    expect((await search('one@example.com')).body).toMatchObject({ total_count: 0, data: [] });

    const put = await call('PUT', `/contacts/${seeded.id}`, { external_id: 'cus_3', unsubscribed_from_emails: true });
    expect(put.body).toMatchObject({ id: seeded.id, external_id: 'cus_3', unsubscribed_from_emails: true });
    expect((await call('PUT', '/contacts/nope', { name: 'x' })).status).toBe(404);
    const del = await call('DELETE', `/contacts/${seeded.id}`);
    expect(del.body).toEqual({ type: 'contact', id: seeded.id, external_id: 'cus_3', deleted: true });
    expect((await call('DELETE', `/contacts/${seeded.id}`)).status).toBe(404);
    expect(fake.state.calls['DELETE /contacts/{id}']).toBe(2);
  });

  it('de-duplicates events by contact, name and created_at (202 each time); keeps 10 metadata keys; 404 for an unknown user', async () => {
    fake = await startFakeIntercom();
    const c = fake.controls.seedContact({ email: 'a@example.com', external_id: 'cus_1' });
    const ev = { event_name: 'Successfully Paid', created_at: 1_760_000_000, user_id: 'cus_1', metadata: { amount: { amount: 4999, currency: 'usd' }, invoice: 'in_1' } };
    for (let i = 0; i < 3; i++) {
      const r = await call('POST', '/events', ev);
      expect([r.status, r.body]).toEqual([202, null]);
    }
    expect((await call('POST', '/events', { ...ev, created_at: 1_760_000_001 })).status).toBe(202);
    expect((await call('POST', '/events', { ...ev, event_name: 'Refunded' })).status).toBe(202);
    // Found by email too: the same contact, so the same event.
    expect((await call('POST', '/events', { event_name: ev.event_name, created_at: ev.created_at, email: 'a@example.com' })).status).toBe(202);
    expect(fake.state.events.map((e) => [e.contactId, e.event_name, e.created_at])).toEqual([
      [c.id, 'Successfully Paid', 1_760_000_000],
      [c.id, 'Successfully Paid', 1_760_000_001],
      [c.id, 'Refunded', 1_760_000_000],
    ]);
    expect(fake.state.duplicateEvents).toBe(3);

    const many = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`k${i}`, i]));
    expect((await call('POST', '/events', { event_name: 'Many', created_at: 1, user_id: 'cus_1', metadata: many })).status).toBe(202);
    expect(Object.keys(fake.state.events.at(-1)!.metadata)).toEqual(Object.keys(many).slice(0, 10));
    expect(fake.state.ignoredMetadataKeys).toEqual(['k10', 'k11']);

    const unknown = await call('POST', '/events', { ...ev, user_id: 'cus_404' });
    expect([unknown.status, firstError(unknown.body)?.message]).toEqual([404, 'User Not Found']);
  });

  it('counts requests in fixed periods with X-RateLimit headers, answers 429 beyond the budget, and starts afresh', async () => {
    fake = await startFakeIntercom({ limitPerPeriod: 3, periodMs: 1000 });
    // Start at the beginning of a period so the four calls share one.
    await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await call('GET', '/me'));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429]);
    expect(answers.map((a) => a.headers.get('x-ratelimit-remaining'))).toEqual(['2', '1', '0', '0']);
    expect(answers.every((a) => a.headers.get('x-ratelimit-limit') === '3')).toBe(true);
    const reset = Number(answers[3]!.headers.get('x-ratelimit-reset'));
    expect(reset * 1000).toBeGreaterThan(Date.now());
    expect(reset * 1000 - Date.now()).toBeLessThanOrEqual(1000);
    expect(firstError(answers[3]!.body)).toEqual({ code: 'rate_limit_exceeded', message: 'Exceeded rate limit of 3 in 10_seconds' });
    await new Promise((r) => setTimeout(r, reset * 1000 - Date.now() + 10));
    const after = await call('GET', '/me');
    expect([after.status, after.headers.get('x-ratelimit-remaining')]).toEqual([200, '2']);
    expect(fake.state.throttled).toBe(1);

    fake.controls.throttleNext(1);
    fake.controls.failNext(1, 503);
    expect((await call('GET', '/me')).status).toBe(429);
    expect((await call('GET', '/me')).status).toBe(503);
  });
});
