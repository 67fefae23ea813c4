import { newObjectId } from './object-store';
import type { PropertyProblem } from './errors';
import type { FakeObject, FakePipeline, FakePipelineStage } from './types';

/**
 * Deal and ticket pipelines of one portal. Every portal starts with HubSpot's defaults: the deal pipeline
 * `default` ("Sales Pipeline", seven stages with their probabilities) and the ticket pipeline `0` ("Support
 * Pipeline": New, Waiting on contact, Waiting on us, Closed). Deal and ticket writes are checked against them.
 */

export type PipelineType = 'deals' | 'tickets';

/** Default pipelines and stages have createdAt 0, as HubSpot's do. */
const EPOCH = new Date(0).toISOString();

function stage(id: string, label: string, displayOrder: number, metadata: Record<string, string>): FakePipelineStage {
  return { id, label, displayOrder, metadata, archived: false, createdAt: EPOCH, updatedAt: EPOCH };
}

function defaultDealPipeline(): FakePipeline {
  const deal = (id: string, label: string, i: number, probability: string, closed = false) =>
    stage(id, label, i, { isClosed: String(closed), probability });
  return {
    id: 'default',
    label: 'Sales Pipeline',
    displayOrder: 0,
    archived: false,
    createdAt: EPOCH,
    updatedAt: EPOCH,
    stages: [
      deal('appointmentscheduled', 'Appointment Scheduled', 0, '0.2'),
      deal('qualifiedtobuy', 'Qualified To Buy', 1, '0.4'),
      deal('presentationscheduled', 'Presentation Scheduled', 2, '0.6'),
      deal('decisionmakerboughtin', 'Decision Maker Bought-In', 3, '0.8'),
      deal('contractsent', 'Contract Sent', 4, '0.9'),
      deal('closedwon', 'Closed Won', 5, '1.0', true),
      deal('closedlost', 'Closed Lost', 6, '0.0', true),
    ],
  };
}

function defaultTicketPipeline(): FakePipeline {
  const ticket = (id: string, label: string, i: number, state: 'OPEN' | 'CLOSED') =>
    stage(id, label, i, { isClosed: String(state === 'CLOSED'), ticketState: state });
  return {
    id: '0',
    label: 'Support Pipeline',
    displayOrder: 0,
    archived: false,
    createdAt: EPOCH,
    updatedAt: EPOCH,
    stages: [
      ticket('1', 'New', 0, 'OPEN'),
      ticket('2', 'Waiting on contact', 1, 'OPEN'),
      ticket('3', 'Waiting on us', 2, 'OPEN'),
      ticket('4', 'Closed', 3, 'CLOSED'),
    ],
  };
}

/** Which properties of a deal/ticket name its pipeline and stage, and the default pipeline id. */
export const PIPELINE_FIELDS: Record<PipelineType, { pipeline: string; stage: string; defaultPipeline: string }> = {
  deals: { pipeline: 'pipeline', stage: 'dealstage', defaultPipeline: 'default' },
  tickets: { pipeline: 'hs_pipeline', stage: 'hs_pipeline_stage', defaultPipeline: '0' },
};

export class PipelineStore {
  private lists: Record<PipelineType, FakePipeline[]> = { deals: [defaultDealPipeline()], tickets: [defaultTicketPipeline()] };

  /** Pipelines of the type (archived included), in creation order. */
  all(type: PipelineType): FakePipeline[] {
    return this.lists[type];
  }

  live(type: PipelineType): FakePipeline[] {
    return this.lists[type]
      .filter((p) => !p.archived)
      .sort((a, b) => a.displayOrder - b.displayOrder || a.label.localeCompare(b.label));
  }

  get(type: PipelineType, id: string): FakePipeline | undefined {
    return this.lists[type].find((p) => p.id === id && !p.archived);
  }

  add(type: PipelineType, pipeline: FakePipeline): void {
    this.lists[type].push(pipeline);
  }

  /** A fresh id for a pipeline or stage (HubSpot's are numeric strings). */
  newId(): string {
    return newObjectId();
  }

  /**
   * Completes a deal/ticket write with the pipeline defaults (create only: the default pipeline when none is
   * given) and checks pipeline and stage: unknown pipeline, unknown stage, or a stage of another pipeline.
   */
  check(type: PipelineType, values: Record<string, string>, existing: FakeObject | undefined): PropertyProblem[] {
    const f = PIPELINE_FIELDS[type];
    if (!existing && values[f.pipeline] === undefined && values[f.stage] !== undefined) values[f.pipeline] = f.defaultPipeline;
    const touched = values[f.pipeline] !== undefined || values[f.stage] !== undefined;
    if (!touched) return [];
    const pipelineId = values[f.pipeline] ?? existing?.properties[f.pipeline] ?? f.defaultPipeline;
    const stageId = values[f.stage] ?? existing?.properties[f.stage];
    const pipeline = this.get(type, pipelineId);
    if (!pipeline) {
      const ids = this.live(type).map((p) => p.id);
      return [{ name: f.pipeline, error: 'INVALID_OPTION', propertyValue: pipelineId, message: `${pipelineId} was not one of the allowed options: [${ids.join(', ')}]` }];
    }
    if (stageId === undefined || stageId === '') return [];
    const stages = pipeline.stages.filter((s) => !s.archived).map((s) => s.id);
    if (stages.includes(stageId)) return [];
    return [
      {
        name: f.stage,
        error: 'INVALID_OPTION',
        propertyValue: stageId,
        message: `${stageId} is not a valid stage of pipeline ${pipelineId}: allowed options are [${stages.join(', ')}]`,
      },
    ];
  }

  /** Whether any live record uses the pipeline (a pipeline in use cannot be deleted). */
  inUse(type: PipelineType, id: string, records: FakeObject[]): boolean {
    return records.some((r) => r.properties[PIPELINE_FIELDS[type].pipeline] === id);
  }
}
