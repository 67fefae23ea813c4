import { fail, notFound, validationError, type HandlerResult } from '../errors';
import { objectTypeOf } from '../object-types';
import type { PipelineType } from '../pipelines';
import type { Context, Route } from '../router';
import type { OperationRef } from '../spec-validator';
import type { FakePipeline, FakePipelineStage } from '../types';

/**
 * Pipelines v3 of deals and tickets (`/crm/v3/pipelines/{deals|0-3|tickets|0-5}`): list, read, create, update
 * (label/displayOrder), archive, and stages (list, read, create). Stage metadata: a deal stage needs
 * `probability` (0.0–1.0 in steps of 0.1); a ticket stage's `ticketState` is OPEN or CLOSED (OPEN when left out,
 * the spec marks it optional). Labels are unique: a pipeline's among the type's pipelines (409), a stage's within
 * its pipeline (400).
 */

type Json = Record<string, unknown>;

interface StageInput {
  label: string;
  displayOrder: number;
  metadata: Record<string, string>;
  stageId?: string;
}

const op = (path: string, method: OperationRef['method']): OperationRef => ({ file: 'crm-pipelines-v3', path, method });

function typeOf(ctx: Context): PipelineType {
  const t = objectTypeOf(ctx.params.objectType!);
  if (t !== 'deals' && t !== 'tickets') throw validationError(`Unable to infer object type from: ${ctx.params.objectType}: this fake has pipelines for deals and tickets`);
  return t;
}

function pipelineOf(ctx: Context, type: PipelineType): FakePipeline {
  const p = ctx.portal.pipelineStore.get(type, ctx.params.pipelineId!);
  if (!p) throw notFound(`Unable to find pipeline ${ctx.params.pipelineId}`);
  return p;
}

function publicStage(s: FakePipelineStage): Json {
  return { ...s, metadata: { ...s.metadata }, writePermissions: 'CRM_PERMISSIONS_ENFORCEMENT' };
}

function publicPipeline(p: FakePipeline): Json {
  return { ...p, stages: p.stages.filter((s) => !s.archived).sort((a, b) => a.displayOrder - b.displayOrder).map(publicStage) };
}

/** A stage from its input, metadata checked for the pipeline's object type; throws HubSpot's 400. */
function buildStage(ctx: Context, type: PipelineType, input: StageInput, siblings: FakePipelineStage[]): FakePipelineStage {
  if (input.label.trim() === '') throw validationError('A pipeline stage needs a label');
  if (siblings.some((s) => !s.archived && s.label.toLowerCase() === input.label.toLowerCase())) {
    throw validationError(`A stage labelled "${input.label}" already exists in this pipeline: stage labels must be unique within a pipeline`);
  }
  const metadata: Record<string, string> = {};
  if (type === 'deals') {
    const raw = input.metadata.probability;
    const p = Number(raw);
    if (raw === undefined) throw validationError('Deal pipeline stages require metadata.probability (0.0 to 1.0)');
    if (!/^\d(\.\d+)?$/.test(String(raw)) || Number.isNaN(p) || p < 0 || p > 1 || Math.abs(p * 10 - Math.round(p * 10)) > 1e-9) {
      throw validationError(`metadata.probability must be between 0.0 and 1.0 in increments of 0.1, got "${raw}"`);
    }
    metadata.probability = p.toFixed(1);
    metadata.isClosed = String(input.metadata.isClosed === 'true' || p === 0 || p === 1);
  } else {
    const state = input.metadata.ticketState ?? 'OPEN';
    if (state !== 'OPEN' && state !== 'CLOSED') throw validationError(`metadata.ticketState must be OPEN or CLOSED, got "${state}"`);
    metadata.ticketState = state;
    metadata.isClosed = String(state === 'CLOSED');
  }
  const iso = ctx.now.toISOString();
  const id = input.stageId ?? ctx.portal.pipelineStore.newId();
  if (siblings.some((s) => s.id === id)) throw fail(409, 'CONFLICT', `A stage with id ${id} already exists in this pipeline`);
  return { id, label: input.label, displayOrder: input.displayOrder, metadata, archived: false, createdAt: iso, updatedAt: iso };
}

function list(ctx: Context): HandlerResult {
  return { status: 200, body: { results: ctx.portal.pipelineStore.live(typeOf(ctx)).map(publicPipeline) } };
}

function getOne(ctx: Context): HandlerResult {
  return { status: 200, body: publicPipeline(pipelineOf(ctx, typeOf(ctx))) };
}

function create(ctx: Context): HandlerResult {
  const type = typeOf(ctx);
  const store = ctx.portal.pipelineStore;
  const input = ctx.body as { label: string; displayOrder: number; stages: StageInput[]; pipelineId?: string };
  if (input.label.trim() === '') throw validationError('A pipeline needs a label');
  if (store.live(type).some((p) => p.label.toLowerCase() === input.label.toLowerCase())) {
    throw fail(409, 'CONFLICT', `A pipeline with label "${input.label}" already exists for ${type}`);
  }
  if (input.pipelineId !== undefined && store.all(type).some((p) => p.id === input.pipelineId)) {
    throw fail(409, 'CONFLICT', `A pipeline with id ${input.pipelineId} already exists for ${type}`);
  }
  if (input.stages.length === 0) throw validationError('A pipeline needs at least one stage');
  const stages: FakePipelineStage[] = [];
  for (const s of input.stages) stages.push(buildStage(ctx, type, s, stages));
  const iso = ctx.now.toISOString();
  const pipeline: FakePipeline = {
    id: input.pipelineId ?? store.newId(),
    label: input.label,
    displayOrder: input.displayOrder,
    stages,
    archived: false,
    createdAt: iso,
    updatedAt: iso,
  };
  store.add(type, pipeline);
  return { status: 201, body: publicPipeline(pipeline) };
}

function patch(ctx: Context): HandlerResult {
  const type = typeOf(ctx);
  const pipeline = pipelineOf(ctx, type);
  const input = ctx.body as { label?: string; displayOrder?: number; archived?: boolean };
  if (input.archived !== undefined) throw validationError('archived may only be sent to restore an archived pipeline');
  if (input.label !== undefined) {
    const clash = ctx.portal.pipelineStore.live(type).find((p) => p.id !== pipeline.id && p.label.toLowerCase() === input.label!.toLowerCase());
    if (clash) throw fail(409, 'CONFLICT', `A pipeline with label "${input.label}" already exists for ${type}`);
    pipeline.label = input.label;
  }
  if (input.displayOrder !== undefined) pipeline.displayOrder = input.displayOrder;
  pipeline.updatedAt = ctx.now.toISOString();
  return { status: 200, body: publicPipeline(pipeline) };
}

function archive(ctx: Context): HandlerResult {
  const type = typeOf(ctx);
  const pipeline = pipelineOf(ctx, type);
  if (ctx.portal.pipelineStore.inUse(type, pipeline.id, ctx.portal.store(type).live())) {
    throw validationError(`Pipeline ${pipeline.id} still has ${type} in it: move or delete them first`);
  }
  pipeline.archived = true;
  pipeline.archivedAt = ctx.now.toISOString();
  return { status: 204 };
}

function stages(ctx: Context): HandlerResult {
  return { status: 200, body: { results: (publicPipeline(pipelineOf(ctx, typeOf(ctx))).stages as Json[]) } };
}

function stageById(ctx: Context): HandlerResult {
  const stage = pipelineOf(ctx, typeOf(ctx)).stages.find((s) => s.id === ctx.params.stageId && !s.archived);
  if (!stage) throw notFound(`Unable to find stage ${ctx.params.stageId}`);
  return { status: 200, body: publicStage(stage) };
}

function createStage(ctx: Context): HandlerResult {
  const type = typeOf(ctx);
  const pipeline = pipelineOf(ctx, type);
  const stage = buildStage(ctx, type, ctx.body as StageInput, pipeline.stages);
  pipeline.stages.push(stage);
  pipeline.updatedAt = ctx.now.toISOString();
  return { status: 201, body: publicStage(stage) };
}

const P = '/crm/v3/pipelines/{objectType}';
const R = '/crm/v3/pipelines/:objectType';

export const pipelineRoutes: Route[] = [
  { method: 'GET', path: R, kind: 'crm', handler: list },
  { method: 'POST', path: R, kind: 'crm', write: true, op: op(P, 'post'), handler: create },
  { method: 'GET', path: `${R}/:pipelineId/stages`, kind: 'crm', handler: stages },
  { method: 'POST', path: `${R}/:pipelineId/stages`, kind: 'crm', write: true, op: op(`${P}/{pipelineId}/stages`, 'post'), handler: createStage },
  { method: 'GET', path: `${R}/:pipelineId/stages/:stageId`, kind: 'crm', handler: stageById },
  { method: 'GET', path: `${R}/:pipelineId`, kind: 'crm', handler: getOne },
  { method: 'PATCH', path: `${R}/:pipelineId`, kind: 'crm', write: true, op: op(`${P}/{pipelineId}`, 'patch'), handler: patch },
  { method: 'DELETE', path: `${R}/:pipelineId`, kind: 'crm', write: true, handler: archive },
];
