import type { Client } from '@hubspot/api-client';
import { startFakeHubSpot, type FakeHubSpot } from './server';
import { oauthClient, raw, sdkClient, sdkError } from './test-support';

/** Pipelines v3 of deals and tickets: HubSpot's defaults, creation rules, and deal/ticket writes checked against them. */

let fake: FakeHubSpot;
let hs: Client;
const PORTAL = 2201;

beforeAll(async () => {
  fake = await startFakeHubSpot();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.reset();
  hs = sdkClient(fake, PORTAL);
});

const stripeStages: { label: string; displayOrder: number; metadata: Record<string, string> }[] = [
  { label: 'Active', displayOrder: 0, metadata: { probability: '1.0' } },
  { label: 'Past due', displayOrder: 1, metadata: { probability: '0.5' } },
  { label: 'Canceled', displayOrder: 2, metadata: { probability: '0.0', isClosed: 'true' } },
];

describe('defaults', () => {
  it('every portal starts with HubSpot’s default deal pipeline and support pipeline', async () => {
    const deals = await hs.crm.pipelines.pipelinesApi.getAll('deals');
    expect(deals.results.map((p) => [p.id, p.label])).toEqual([['default', 'Sales Pipeline']]);
    expect(deals.results[0]!.stages.map((s) => s.id)).toEqual([
      'appointmentscheduled', 'qualifiedtobuy', 'presentationscheduled', 'decisionmakerboughtin', 'contractsent', 'closedwon', 'closedlost',
    ]);
    expect(deals.results[0]!.stages.find((s) => s.id === 'closedwon')!.metadata).toEqual({ isClosed: 'true', probability: '1.0' });
    const tickets = await hs.crm.pipelines.pipelinesApi.getById('tickets', '0');
    expect(tickets.label).toBe('Support Pipeline');
    expect(tickets.stages.map((s) => [s.id, s.metadata?.ticketState])).toEqual([['1', 'OPEN'], ['2', 'OPEN'], ['3', 'OPEN'], ['4', 'CLOSED']]);
    expect(fake.portal(PORTAL).pipelines('tickets').map((p) => p.id)).toEqual(['0']);
  });
});

describe('creating pipelines', () => {
  it('creates a deal pipeline whose stages carry probabilities, and refuses a second one with the same label', async () => {
    const p = await hs.crm.pipelines.pipelinesApi.create('deals', { label: 'Stripe subscriptions', displayOrder: 1, stages: stripeStages });
    expect(p.id).toMatch(/^\d+$/);
    expect(p.stages.map((s) => [s.label, s.metadata?.probability, s.metadata?.isClosed])).toEqual([
      ['Active', '1.0', 'true'], ['Past due', '0.5', 'false'], ['Canceled', '0.0', 'true'],
    ]);
    expect(fake.portal(PORTAL).pipelines('deals').map((x) => x.label)).toEqual(['Sales Pipeline', 'Stripe subscriptions']);
    const dup = await sdkError(hs.crm.pipelines.pipelinesApi.create('deals', { label: 'stripe subscriptions', displayOrder: 2, stages: stripeStages }));
    expect(dup.code).toBe(409);
    expect(fake.portal(PORTAL).pipelines('deals')).toHaveLength(2);
  });

  it('refuses deal stages without a valid probability, ticket stages with another ticketState, duplicate stage labels', async () => {
    const noProbability = await sdkError(
      hs.crm.pipelines.pipelinesApi.create('deals', { label: 'X', displayOrder: 1, stages: [{ label: 'A', displayOrder: 0, metadata: {} }] }),
    );
    expect(noProbability.code).toBe(400);
    expect(noProbability.body.message).toContain('probability');
    const badProbability = await sdkError(
      hs.crm.pipelines.pipelinesApi.create('deals', { label: 'X', displayOrder: 1, stages: [{ label: 'A', displayOrder: 0, metadata: { probability: '0.55' } }] }),
    );
    expect(badProbability.code).toBe(400);
    const badState = await sdkError(
      hs.crm.pipelines.pipelinesApi.create('tickets', { label: 'X', displayOrder: 1, stages: [{ label: 'A', displayOrder: 0, metadata: { ticketState: 'PENDING' } }] }),
    );
    expect(badState.code).toBe(400);
    const twice = await sdkError(
      hs.crm.pipelines.pipelinesApi.create('tickets', {
        label: 'X', displayOrder: 1, stages: [{ label: 'A', displayOrder: 0, metadata: {} }, { label: 'a', displayOrder: 1, metadata: {} }],
      }),
    );
    expect(twice.code).toBe(400);
    const noMetadata = await raw(fake, 'POST', '/crm/v3/pipelines/tickets', {
      token: `pat-${PORTAL}`, json: { label: 'X', displayOrder: 1, stages: [{ label: 'A', displayOrder: 0 }] },
    });
    expect(noMetadata.status).toBe(400);
    expect(String(noMetadata.body.message)).toContain('stages.0.metadata');
    expect(fake.portal(PORTAL).pipelines('deals')).toHaveLength(1);
    expect(fake.portal(PORTAL).pipelines('tickets')).toHaveLength(1);
    const ok = await hs.crm.pipelines.pipelinesApi.create('tickets', { label: 'Billing', displayOrder: 1, stages: [{ label: 'Open', displayOrder: 0, metadata: {} }] });
    expect(ok.stages[0]!.metadata?.ticketState).toBe('OPEN');
  });

  it('adds a stage, and needs crm.schemas.deals.write to create a deal pipeline', async () => {
    const p = await hs.crm.pipelines.pipelinesApi.create('deals', { label: 'Stripe subscriptions', displayOrder: 1, stages: stripeStages });
    const s = await hs.crm.pipelines.pipelineStagesApi.create('deals', p.id, { label: 'Trialing', displayOrder: 3, metadata: { probability: '0.3' } });
    expect((await hs.crm.pipelines.pipelineStagesApi.getAll('deals', p.id)).results.map((x) => x.id)).toContain(s.id);
    const reader = await oauthClient(fake, PORTAL, ['oauth', 'crm.objects.deals.read']);
    expect((await reader.crm.pipelines.pipelinesApi.getAll('deals')).results).toHaveLength(2);
    const e = await sdkError(reader.crm.pipelines.pipelinesApi.create('deals', { label: 'Y', displayOrder: 2, stages: stripeStages }));
    expect(e.code).toBe(403);
    expect(e.body.errors).toEqual([expect.objectContaining({ context: { requiredGranularScopes: ['crm.schemas.deals.write'] } })]);
  });
});

describe('deal and ticket writes', () => {
  it('accepts a stage of the named pipeline; refuses an unknown pipeline, an unknown stage, a stage of another pipeline', async () => {
    const p = await hs.crm.pipelines.pipelinesApi.create('deals', { label: 'Stripe subscriptions', displayOrder: 1, stages: stripeStages });
    const active = p.stages.find((s) => s.label === 'Active')!.id;
    const d = await hs.crm.deals.basicApi.create({ properties: { dealname: 'Pro', pipeline: p.id, dealstage: active }, associations: [] });
    expect(d.properties).toMatchObject({ pipeline: p.id, dealstage: active });
    const errorOf = async (properties: Record<string, string>) => {
      const e = await sdkError(hs.crm.deals.basicApi.create({ properties: { dealname: 'X', ...properties }, associations: [] }));
      expect(e.code).toBe(400);
      return (e.body.errors as { code: string; context: { propertyName: string[] } }[])[0]!;
    };
    expect(await errorOf({ pipeline: '999', dealstage: active })).toMatchObject({ code: 'INVALID_OPTION', context: { propertyName: ['pipeline'] } });
    expect(await errorOf({ pipeline: p.id, dealstage: 'nope' })).toMatchObject({ code: 'INVALID_OPTION', context: { propertyName: ['dealstage'] } });
    expect(await errorOf({ dealstage: active })).toMatchObject({ code: 'INVALID_OPTION', context: { propertyName: ['dealstage'] } });
    // Moving the deal to another pipeline without a stage of it is refused too.
    const move = await sdkError(hs.crm.deals.basicApi.update(d.id, { properties: { pipeline: 'default' } }));
    expect(move.code).toBe(400);
    await hs.crm.deals.basicApi.update(d.id, { properties: { pipeline: 'default', dealstage: 'closedwon' } });
    expect(fake.portal(PORTAL).deals().map((x) => x.properties.dealstage)).toEqual(['closedwon']);
    const ticket = await sdkError(hs.crm.tickets.basicApi.create({ properties: { subject: 'X', hs_pipeline_stage: 'closedwon' }, associations: [] }));
    expect(ticket.code).toBe(400);
    expect(fake.portal(PORTAL).tickets()).toHaveLength(0);
  });

  it('refuses to delete a pipeline that still has deals', async () => {
    const p = await hs.crm.pipelines.pipelinesApi.create('deals', { label: 'Stripe subscriptions', displayOrder: 1, stages: stripeStages });
    const d = await hs.crm.deals.basicApi.create({ properties: { dealname: 'Pro', pipeline: p.id, dealstage: p.stages[0]!.id }, associations: [] });
    expect((await sdkError(hs.crm.pipelines.pipelinesApi.archive('deals', p.id))).code).toBe(400);
    await hs.crm.deals.basicApi.archive(d.id);
    await hs.crm.pipelines.pipelinesApi.archive('deals', p.id);
    expect(fake.portal(PORTAL).pipelines('deals').map((x) => x.id)).toEqual(['default']);
  });
});
