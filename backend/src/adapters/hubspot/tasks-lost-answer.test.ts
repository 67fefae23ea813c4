import { useHubSpotAdapter } from '../../../test/helpers/hubspot-adapter';
import { loseAnswers } from '../../../test/fakes/hubspot/lost-answers';
import { PermanentHubSpotError } from './errors';
import { createTask, tasksOnContacts } from './tasks';
import { AmbiguousWriteError } from './write-once';

/**
 * A task create is sent once per call: a lost answer (reset connection, 502 after HubSpot applied it) is not
 * retried into a second task but reported as ambiguous, and the task can then be found on its contact.
 */

const hs = useHubSpotAdapter({ retry: { baseDelayMs: 5, maxAttempts: 4, lockedDelayMs: 5, rateLimitDelayMs: 5 }, firstPortal: 9800 });

const taskPosts = (portalId: number) => hs.fake.requests.filter((r) => r.portalId === portalId && r.method === 'POST' && r.path === '/crm/v3/objects/tasks').length;

describe.each([['a reset connection', 'reset' as const], ['a 502 from a gateway', 502]])('a task create whose answer is lost to %s', (_what, as) => {
  it('is applied once, reported ambiguous, and found on the contact afterwards', async () => {
    const { portalId, portal } = hs.newPortal();
    const contact = hs.fake.portal(portalId).addContact({ email: `lost-${String(as)}@example.com` });
    const dueAt = new Date('2030-05-06T07:08:09.000Z');
    loseAnswers(hs.fake, 1, { method: 'POST', pathPrefix: '/crm/v3/objects/tasks', as });

    await expect(createTask(portal, contact.id, { subject: 'Payment failed', body: 'Declined', dueAt })).rejects.toBeInstanceOf(AmbiguousWriteError);
    expect(taskPosts(portalId)).toBe(1);
    const tasks = hs.fake.portal(portalId).tasks;
    expect(tasks).toHaveLength(1);

    const found = await tasksOnContacts(portal, [contact.id, '999999999']);
    expect([...found.keys()]).toEqual([contact.id]);
    expect(found.get(contact.id)).toEqual([{ id: tasks[0]!.id, subject: 'Payment failed', dueAtMs: dueAt.getTime() }]);
  });
});

describe('a task create refused before HubSpot applied anything', () => {
  it('is retried after 423 and 429 (nothing was applied) and makes one task', async () => {
    const { portalId, portal } = hs.newPortal();
    const contact = hs.fake.portal(portalId).addContact({ email: 'locked@example.com' });
    hs.fake.inject.lockNext(1);
    hs.fake.inject.failNext(1, 429);
    const { id } = await createTask(portal, contact.id, { subject: 'S', body: 'B', dueAt: new Date('2030-01-01T00:00:00Z') });
    expect(taskPosts(portalId)).toBe(3);
    expect(hs.fake.portal(portalId).tasks.map((t) => t.id)).toEqual([id]);
  });

  it('a refusal (400) stays permanent', async () => {
    const { portal } = hs.newPortal();
    await expect(createTask(portal, '123456789', { subject: 's', body: 'b', dueAt: new Date() })).rejects.toBeInstanceOf(PermanentHubSpotError);
  });
});

describe('tasksOnContacts', () => {
  it('lists every task of each contact, tasks of other contacts apart, in two batch calls', async () => {
    const { portalId, portal } = hs.newPortal();
    const a = hs.fake.portal(portalId).addContact({ email: 'a@example.com' });
    const b = hs.fake.portal(portalId).addContact({ email: 'b@example.com' });
    const c = hs.fake.portal(portalId).addContact({ email: 'c@example.com' });
    const t1 = await createTask(portal, a.id, { subject: 'one', body: '', dueAt: new Date(1_900_000_000_000) });
    const t2 = await createTask(portal, a.id, { subject: 'two', body: '', dueAt: new Date(1_900_000_001_000) });
    const t3 = await createTask(portal, b.id, { subject: 'three', body: '', dueAt: new Date(1_900_000_002_000) });
    const before = hs.fake.requests.length;
    const found = await tasksOnContacts(portal, [a.id, b.id, c.id]);
    expect(hs.fake.requests.length - before).toBe(2);
    expect(found.get(a.id)?.map((t) => [t.id, t.subject]).sort()).toEqual([[t1.id, 'one'], [t2.id, 'two']].sort());
    expect(found.get(b.id)).toEqual([{ id: t3.id, subject: 'three', dueAtMs: 1_900_000_002_000 }]);
    expect(found.has(c.id)).toBe(false);
  });

  it('makes no call for no contacts', async () => {
    const { portal } = hs.newPortal();
    const before = hs.fake.requests.length;
    expect((await tasksOnContacts(portal, [])).size).toBe(0);
    expect(hs.fake.requests.length).toBe(before);
  });
});
