import { startFakeLoops, type FakeLoops } from '../fakes/loops/server';

/**
 * The fake Loops API itself, over plain HTTP: it holds callers to Loops' published contract (`specs/loops`) and
 * answers in its documented shapes, so the adapter's tests prove something about the real API.
 */
describe('fake Loops API', () => {
  let fake: FakeLoops;
  beforeEach(async () => {
    fake = await startFakeLoops({ teamName: 'Contract Team' });
  });
  afterEach(async () => {
    await fake.close();
  });

  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}, key = fake.apiKey) => {
    const res = await fetch(`${fake.url}/api/v1/${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
  };

  it('refuses bodies that break the contract with the documented error shape', async () => {
    // eventName is required; a nested object is not a contact property value; a property needs name and type.
    const noName = await call('POST', 'events/send', { email: 'a@example.com' });
    expect(noName.status).toBe(400);
    expect(noName.body).toEqual({ success: false, message: expect.stringContaining('eventName') });
    const nested = await call('PUT', 'contacts/update', { email: 'a@example.com', plan: { name: 'Pro' } });
    expect(nested.status).toBe(400);
    expect(nested.body.success).toBe(false);
    const wrongType = await call('PUT', 'contacts/update', { email: 'a@example.com', firstName: 42 });
    expect(wrongType.status).toBe(400);
    const noType = await call('POST', 'contacts/properties', { name: 'planName' });
    expect(noType.status).toBe(400);
    expect(noType.body.message).toContain('type');
    // Delete takes exactly one of email and userId.
    const both = await call('POST', 'contacts/delete', { email: 'a@example.com', userId: 'u1' });
    expect(both.status).toBe(400);
    const notJson = await call('PUT', 'contacts/update', '{"email":');
    expect(notJson.status).toBe(400);
    expect(fake.state.contacts.size).toBe(0);
    expect(fake.state.events).toHaveLength(0);
  });

  it('answers the documented shapes and rate-limit headers', async () => {
    const key = await call('GET', 'api-key');
    expect(key).toMatchObject({ status: 200, body: { success: true, teamName: 'Contract Team' } });
    expect(key.headers.get('x-ratelimit-limit')).toBe('10');
    expect(key.headers.get('x-ratelimit-remaining')).toBe('9');
    const created = await call('POST', 'contacts/create', { email: 'b@example.com', userId: 'u_b' });
    expect(created.body).toEqual({ success: true, id: expect.any(String) });
    expect((await call('POST', 'contacts/create', { email: 'b@example.com' })).status).toBe(409);
    const found = await fetch(`${fake.url}/api/v1/contacts/find?userId=u_b`, { headers: { authorization: `Bearer ${fake.apiKey}` } });
    expect(await found.json()).toEqual([expect.objectContaining({ id: created.body.id, email: 'b@example.com', userId: 'u_b', subscribed: true })]);
    expect((await call('POST', 'contacts/properties', { name: 'planName', type: 'string' })).body).toEqual({ success: true });
    expect((await call('POST', 'contacts/properties', { name: 'PlanName', type: 'string' })).status).toBe(400);
    expect((await call('POST', 'contacts/properties', { name: 'seats', type: 'integer' })).status).toBe(400);
    const list = await fetch(`${fake.url}/api/v1/contacts/properties?list=custom`, { headers: { authorization: `Bearer ${fake.apiKey}` } });
    expect(await list.json()).toEqual([{ key: 'planName', label: 'Plan name', type: 'string' }]);
    expect((await call('POST', 'contacts/delete', { userId: 'u_b' })).body).toEqual({ success: true, message: 'Contact deleted.' });
    expect((await call('POST', 'contacts/delete', { userId: 'u_b' })).status).toBe(404);
  });

  it('a property used before it exists is created with a guessed type (recorded)', async () => {
    await call('PUT', 'contacts/update', { email: 'c@example.com', userId: 'u_c', signedUpAt: 1700000000000 });
    expect(fake.state.autoCreatedProperties).toEqual(['signedUpAt']);
    expect(fake.state.properties.get('signedUpAt')?.type).toBe('number');
    await call('POST', 'contacts/properties', { name: 'renewsOn', type: 'date' });
    expect((await call('PUT', 'contacts/update', { userId: 'u_c', renewsOn: 'next week' })).status).toBe(400);
    expect((await call('PUT', 'contacts/update', { userId: 'u_c', renewsOn: '2025-01-31T00:00:00.000Z' })).status).toBe(200);
  });

  it('401 for a wrong or revoked key; 429 above 10 requests a second; injected failures', async () => {
    expect(await call('GET', 'api-key', undefined, {}, 'wrong')).toMatchObject({ status: 401, body: { success: false, message: 'Invalid API key' } });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await call('GET', 'api-key')).status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.slice(10)).toEqual([429, 429]);
    await new Promise((r) => setTimeout(r, 1_050));
    fake.controls.throttleNext(1);
    fake.controls.failNext(1, 502);
    const throttled = await call('GET', 'api-key');
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('x-ratelimit-remaining')).toBe('0');
    expect((await call('GET', 'api-key')).status).toBe(502);
    expect((await call('GET', 'api-key')).status).toBe(200);
    fake.controls.revokeKey();
    expect((await call('GET', 'api-key')).status).toBe(401);
    expect(fake.state.calls['GET /api/v1/api-key']).toBe(17);
  });

  it('an Idempotency-Key seen inside the window is answered 409 and not sent again; over 100 characters is refused', async () => {
    const body = { email: 'd@example.com', eventName: 'Upgraded', eventProperties: { plan: 'Pro' } };
    expect((await call('POST', 'events/send', body, { 'Idempotency-Key': 'k-1' })).body).toEqual({ success: true });
    const again = await call('POST', 'events/send', body, { 'Idempotency-Key': 'k-1' });
    expect(again).toMatchObject({ status: 409, body: { success: false, message: 'Idempotency key has been used.' } });
    expect((await call('POST', 'events/send', body, { 'Idempotency-Key': 'x'.repeat(101) })).status).toBe(400);
    expect(fake.state.events).toHaveLength(1);
  });
});
