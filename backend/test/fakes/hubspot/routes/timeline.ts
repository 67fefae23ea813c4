import { HubSpotHttpError, notFound, standardError, validationError, type HandlerResult } from '../errors';
import type { Context, Route } from '../router';
import type { OperationRef } from '../spec-validator';
import {
  buildToken,
  createEvent,
  newTemplateId,
  publicEvent,
  templateObjectType,
  type EventInput,
  type TimelineTemplates,
  type TokenInput,
} from '../timeline';
import type { FakeEventTemplate } from '../types';
import { inputsOf } from './contacts-batch';

/**
 * Timeline v3 (`/integrators/timeline/v3/…`, also answered under the older `/crm/v3/timeline/…`):
 *  - event templates of the app (list, create, read, delete, add a token): kind `developer`, authenticated by the
 *    app's developer API key (`?hapikey=`), as HubSpot documents; the `{appId}` must be the fake's app;
 *  - events (create, batch create, read): an OAuth access token of a portal where the app is installed, with the
 *    `timeline` scope; private-app tokens are refused (403) — a private app has no event templates.
 * Batch create answers 201, or 207 with one error per refused input (the others are created).
 */

type Json = Record<string, unknown>;

export interface TimelineDeps {
  templates: TimelineTemplates;
  appId: number;
}

const SPEC = '/integrators/timeline/v3';
const op = (suffix: string, method: OperationRef['method']): OperationRef => ({ file: 'crm-timeline-v3', path: `${SPEC}${suffix}`, method });

function publicTemplate(t: FakeEventTemplate): Json {
  const { appId: _appId, ...rest } = t;
  return rest;
}

export function timelineRoutes(deps: TimelineDeps): Route[] {
  const { templates } = deps;

  function checkApp(ctx: Context): number {
    const appId = Number(ctx.params.appId);
    if (appId !== deps.appId) throw notFound(`App ${ctx.params.appId} not found for this developer account`);
    return appId;
  }

  function templateOf(ctx: Context): FakeEventTemplate {
    const t = templates.get(checkApp(ctx), ctx.params.eventTemplateId!);
    if (!t) throw notFound(`Event template ${ctx.params.eventTemplateId} not found`);
    return t;
  }

  const listTemplates = (ctx: Context): HandlerResult => {
    const appId = checkApp(ctx);
    return { status: 200, body: { results: templates.list.filter((t) => t.appId === appId).map(publicTemplate) } };
  };

  const createTemplate = (ctx: Context): HandlerResult => {
    const appId = checkApp(ctx);
    const input = ctx.body as { name: string; objectType: string; tokens: TokenInput[]; headerTemplate?: string; detailTemplate?: string };
    if (input.name.trim() === '') throw validationError('An event template needs a name');
    const objectType = templateObjectType(input.objectType);
    const tokens: FakeEventTemplate['tokens'] = [];
    for (const t of input.tokens) tokens.push(buildToken(t, tokens, ctx.now));
    const iso = ctx.now.toISOString();
    const template: FakeEventTemplate = {
      id: newTemplateId(),
      appId,
      name: input.name,
      objectType,
      ...(input.headerTemplate !== undefined ? { headerTemplate: input.headerTemplate } : {}),
      ...(input.detailTemplate !== undefined ? { detailTemplate: input.detailTemplate } : {}),
      tokens,
      createdAt: iso,
      updatedAt: iso,
    };
    templates.list.push(template);
    return { status: 201, body: publicTemplate(template) };
  };

  const getTemplate = (ctx: Context): HandlerResult => ({ status: 200, body: publicTemplate(templateOf(ctx)) });

  const deleteTemplate = (ctx: Context): HandlerResult => {
    const t = templateOf(ctx);
    templates.list = templates.list.filter((x) => x !== t);
    return { status: 204 };
  };

  const addToken = (ctx: Context): HandlerResult => {
    const t = templateOf(ctx);
    const token = buildToken(ctx.body as TokenInput, t.tokens, ctx.now);
    t.tokens.push(token);
    t.updatedAt = ctx.now.toISOString();
    return { status: 200, body: token };
  };

  const createOne = (ctx: Context): HandlerResult => {
    const event = createEvent(ctx.portal, templates, deps.appId, ctx.body as EventInput, ctx.now, ctx.searchLagMs);
    return { status: 201, body: publicEvent(event) };
  };

  const createBatch = (ctx: Context): HandlerResult => {
    const results: Json[] = [];
    const errors: Json[] = [];
    for (const input of inputsOf<EventInput>(ctx.body)) {
      try {
        results.push(publicEvent(createEvent(ctx.portal, templates, deps.appId, input, ctx.now, ctx.searchLagMs)));
      } catch (e) {
        if (!(e instanceof HubSpotHttpError)) throw e;
        errors.push({ ...standardError(String(e.body.category), String(e.body.message), { id: [input.id ?? ''] }), id: input.id });
      }
    }
    const body: Json = { status: 'COMPLETE', results, startedAt: ctx.now.toISOString(), completedAt: new Date().toISOString() };
    return errors.length === 0 ? { status: 201, body } : { status: 207, body: { ...body, numErrors: errors.length, errors } };
  };

  const getEvent = (ctx: Context): HandlerResult => {
    const e = ctx.portal.events.find((x) => x.eventTemplateId === ctx.params.eventTemplateId && x.id === ctx.params.eventId);
    if (!e) throw notFound(`Event ${ctx.params.eventId} of template ${ctx.params.eventTemplateId} not found`);
    return { status: 200, body: publicEvent(e) };
  };

  const routes = (prefix: string): Route[] => [
    { method: 'POST', path: `${prefix}/events/batch/create`, kind: 'crm', write: true, oauthOnly: true, op: op('/events/batch/create', 'post'), handler: createBatch },
    { method: 'POST', path: `${prefix}/events`, kind: 'crm', write: true, oauthOnly: true, op: op('/events', 'post'), handler: createOne },
    { method: 'GET', path: `${prefix}/events/:eventTemplateId/:eventId`, kind: 'crm', oauthOnly: true, handler: getEvent },
    { method: 'GET', path: `${prefix}/:appId/event-templates`, kind: 'developer', handler: listTemplates },
    { method: 'POST', path: `${prefix}/:appId/event-templates`, kind: 'developer', write: true, op: op('/{appId}/event-templates', 'post'), handler: createTemplate },
    { method: 'GET', path: `${prefix}/:appId/event-templates/:eventTemplateId`, kind: 'developer', handler: getTemplate },
    { method: 'DELETE', path: `${prefix}/:appId/event-templates/:eventTemplateId`, kind: 'developer', write: true, handler: deleteTemplate },
    {
      method: 'POST',
      path: `${prefix}/:appId/event-templates/:eventTemplateId/tokens`,
      kind: 'developer',
      write: true,
      op: op('/{appId}/event-templates/{eventTemplateId}/tokens', 'post'),
      handler: addToken,
    },
  ];
  return [...routes(SPEC), ...routes('/crm/v3/timeline')];
}
