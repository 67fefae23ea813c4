import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { validationError } from './errors';

/**
 * Request-body validation against HubSpot's published OpenAPI specs (`specs/hubspot/*.json` at the repository root): each
 * operation's `requestBody` schema, with its `$ref`s resolved into the spec's components. An invalid body
 * gets HubSpot's 400 VALIDATION_ERROR ("Invalid input JSON … Some required fields were not set: [x]").
 */

export const SPECS_DIR = join(__dirname, '..', '..', '..', '..', 'specs', 'hubspot');

export type SpecFile =
  | 'crm-contacts-v3'
  | 'crm-companies-v3'
  | 'crm-deals-v3'
  | 'crm-tickets-v3'
  | 'crm-notes-v3'
  | 'crm-objects-v3'
  | 'crm-properties-v3'
  | 'crm-pipelines-v3'
  | 'crm-associations-v4'
  | 'crm-timeline-v3'
  | 'oauth-v1'
  | 'oauth-v3';

/**
 * Known errata of the published specs, applied when a spec is loaded: HubSpot's answers and its own SDK
 * disagree with the `required` list. `TimelineEvent.id` is listed as required, but its own description says it
 * is optional (HubSpot creates one), HubSpot made it optional in @hubspot/api-client (issues #30, #161 of
 * HubSpot/hubspot-api-nodejs) and the SDK sends events without it. `TimelineEventTemplateToken.options` is listed
 * as required, but it only applies to enumeration tokens ("If type is `enumeration`…") and the SDK makes it
 * optional.
 */
const ERRATA: Partial<Record<SpecFile, (doc: Json) => void>> = {
  'crm-timeline-v3': (doc) => {
    const schemas = (doc.components as Json).schemas as Record<string, Json>;
    const drop = (name: string, field: string) => {
      schemas[name]!.required = (schemas[name]!.required as string[]).filter((n) => n !== field);
    };
    drop('TimelineEvent', 'id');
    drop('TimelineEventTemplateToken', 'options');
  },
};

/** An operation of a spec: the file, its path template exactly as written there, and the method. */
export interface OperationRef {
  file: SpecFile;
  path: string;
  method: 'get' | 'post' | 'patch' | 'put' | 'delete';
}

type Json = Record<string, unknown>;

let ajv: Ajv | undefined;
const validators = new Map<string, ValidateFunction | null>();

function getAjv(): Ajv {
  if (ajv) return ajv;
  const instance = new Ajv({ strict: false, allErrors: true, validateFormats: true });
  addFormats(instance);
  instance.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  instance.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  ajv = instance;
  return instance;
}

const loaded = new Map<SpecFile, Json>();

function spec(file: SpecFile): Json {
  let doc = loaded.get(file);
  if (!doc) {
    doc = JSON.parse(readFileSync(join(SPECS_DIR, `${file}.json`), 'utf8')) as Json;
    ERRATA[file]?.(doc);
    getAjv().addSchema(doc, `${file}.json`);
    loaded.set(file, doc);
  }
  return doc;
}

/** Rewrites local `#/…` refs so they resolve inside the spec document registered under `file`. */
function anchorRefs(node: unknown, file: SpecFile): unknown {
  if (Array.isArray(node)) return node.map((n) => anchorRefs(n, file));
  if (node && typeof node === 'object') {
    const out: Json = {};
    for (const [k, v] of Object.entries(node as Json)) {
      out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#') ? `${file}.json${v}` : anchorRefs(v, file);
    }
    return out;
  }
  return node;
}

function requestSchema(op: OperationRef): Json | null {
  const paths = spec(op.file).paths as Record<string, Record<string, Json>>;
  const operation = paths[op.path]?.[op.method];
  if (!operation) throw new Error(`fake HubSpot: no operation ${op.method.toUpperCase()} ${op.path} in ${op.file}.json`);
  const content = (operation.requestBody as Json | undefined)?.content as Record<string, Json> | undefined;
  if (!content) return null;
  const media = content['application/json'] ?? content['application/x-www-form-urlencoded'];
  return (media?.schema as Json | undefined) ?? null;
}

function validatorFor(op: OperationRef): ValidateFunction | null {
  const key = `${op.file} ${op.method} ${op.path}`;
  if (!validators.has(key)) {
    const schema = requestSchema(op);
    validators.set(key, schema ? getAjv().compile(anchorRefs(schema, op.file) as Json) : null);
  }
  return validators.get(key) ?? null;
}

/** Whether the operation declares a request body at all. */
export function hasRequestBody(op: OperationRef): boolean {
  return requestSchema(op) !== null;
}

/** Throws HubSpot's 400 when `body` does not match the operation's request schema. */
export function validateRequestBody(op: OperationRef, body: unknown): void {
  const validate = validatorFor(op);
  if (!validate) return;
  if (body === undefined) throw validationError('Invalid input JSON on line 1, column 1: No content to map due to end-of-input');
  if (validate(body)) return;
  throw validationError(describe(validate.errors ?? []), {
    errors: (validate.errors ?? []).map((e) => ({
      message: `${e.instancePath || '(body)'} ${e.message ?? 'is invalid'}`,
      in: e.instancePath || 'body',
      code: 'INVALID_INPUT',
    })),
  });
}

function describe(errors: ErrorObject[]): string {
  const missing = errors
    .filter((e) => e.keyword === 'required')
    .map((e) => {
      const at = e.instancePath ? `${e.instancePath.slice(1).replace(/\//g, '.')}.` : '';
      return `${at}${(e.params as { missingProperty: string }).missingProperty}`;
    });
  if (missing.length > 0) {
    return `Invalid input JSON on line 1, column 1. Some required fields were not set: [${[...new Set(missing)].join(', ')}]`;
  }
  const first = errors[0];
  const where = first?.instancePath ? first.instancePath.slice(1).replace(/\//g, '.') : 'body';
  const detail =
    first?.keyword === 'enum'
      ? `must be one of [${((first.params as { allowedValues: unknown[] }).allowedValues ?? []).join(', ')}]`
      : (first?.message ?? 'is invalid');
  return `Invalid input JSON on line 1, column 1: Cannot deserialize value at \`${where}\`: ${detail}`;
}
