import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/**
 * Klaviyo's published operation files (`specs/klaviyo/<operation_id>.json` at the repository root, revision
 * 2026-07-15). Each file is one self-contained OpenAPI document of one operation: its path, method, request body
 * schema, response schemas and, in its description, its rate limits (`Burst: `10/s`<br>Steady: `150/m``). The fake
 * reads all of that from the files, so it holds to exactly what Klaviyo publishes.
 */

export const KLAVIYO_SPECS_DIR = join(__dirname, '..', '..', '..', '..', 'specs', 'klaviyo');

export const KLAVIYO_OPERATIONS = [
  'get_accounts',
  'create_or_update_profile',
  'get_profiles',
  'bulk_import_profiles',
  'get_bulk_import_profiles_job',
  'get_errors_for_bulk_import_profiles_job',
  'get_profile_ids_for_bulk_import_profiles_job',
  'bulk_create_events',
  'create_event',
  'request_profile_deletion',
] as const;
export type KlaviyoOperationId = (typeof KLAVIYO_OPERATIONS)[number];

type Json = Record<string, unknown>;

export interface KlaviyoOperation {
  id: KlaviyoOperationId;
  method: string;
  /** The path template as written in the spec, e.g. `/api/profile-bulk-import-jobs/{job_id}`. */
  path: string;
  /** Matches a request path; named groups are the template's parameters. */
  pattern: RegExp;
  /** The documented rate limits of the operation. */
  limits: { burstPerSecond: number; steadyPerMinute: number };
  /** The revision the file describes (its `info.version`). */
  revision: string;
  /** Validates a request body; null when the operation takes none. */
  request: ValidateFunction | null;
  /** Validators of the documented success answers by status. */
  responses: Map<number, ValidateFunction | null>;
}

let ajv: Ajv | undefined;
function getAjv(): Ajv {
  if (!ajv) {
    ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
    addFormats(ajv);
  }
  return ajv;
}

/** Rewrites local `#/…` refs so they resolve inside the document registered under `file`. */
function anchorRefs(node: unknown, file: string): unknown {
  if (Array.isArray(node)) return node.map((n) => anchorRefs(n, file));
  if (node && typeof node === 'object') {
    const out: Json = {};
    for (const [k, v] of Object.entries(node as Json)) {
      out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#') ? `${file}${v}` : anchorRefs(v, file);
    }
    return out;
  }
  return node;
}

/**
 * OpenAPI 3.0's `nullable: true` as JSON Schema: the node also admits null. Klaviyo's files put it beside `$ref`
 * and `oneOf`, which JSON Schema's validators refuse, so every such node becomes `anyOf: [node, null]`.
 */
function nullables(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(nullables);
  if (!node || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node as Json)) {
    out[k] = k === 'example' || k === 'examples' ? v : nullables(v);
  }
  if (out.nullable !== true) return out;
  delete out.nullable;
  return { anyOf: [out, { type: 'null' }] };
}

const loaded = new Map<KlaviyoOperationId, KlaviyoOperation>();

export function operation(id: KlaviyoOperationId): KlaviyoOperation {
  const known = loaded.get(id);
  if (known) return known;
  const file = `klaviyo-${id}.json`;
  const doc = nullables(JSON.parse(readFileSync(join(KLAVIYO_SPECS_DIR, `${id}.json`), 'utf8'))) as Json;
  const a = getAjv();
  a.addSchema(doc, file);
  try {
    return load(id, doc, file, a);
  } catch (e) {
    a.removeSchema(file);
    throw e;
  }
}

function load(id: KlaviyoOperationId, doc: Json, file: string, a: Ajv): KlaviyoOperation {
  const paths = doc.paths as Record<string, Record<string, Json>>;
  for (const [path, methods] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(methods)) {
      if (op.operationId !== id) continue;
      const description = String(op.description ?? '');
      const m = /Burst: `(\d+)\/s`<br>Steady: `(\d+)\/m`/.exec(description);
      if (!m) throw new Error(`fake Klaviyo: no rate limits in the description of ${id}`);
      const schemaOf = (content: unknown): Json | null => {
        const media = (content as Record<string, Json> | undefined)?.['application/vnd.api+json'];
        return (media?.schema as Json | undefined) ?? null;
      };
      const compile = (schema: Json | null) => (schema ? a.compile(anchorRefs(schema, file) as Json) : null);
      const responses = new Map<number, ValidateFunction | null>();
      for (const [status, answer] of Object.entries(op.responses as Record<string, Json>)) {
        if (/^\d+$/.test(status)) responses.set(Number(status), compile(schemaOf(answer.content)));
      }
      const pattern = new RegExp(`^${path.replace(/\{(\w+)\}/g, '(?<$1>[^/]+)')}/?$`);
      const result: KlaviyoOperation = {
        id,
        method: method.toUpperCase(),
        path,
        pattern,
        limits: { burstPerSecond: Number(m[1]), steadyPerMinute: Number(m[2]) },
        revision: String((doc.info as Json).version),
        request: compile(schemaOf((op.requestBody as Json | undefined)?.content)),
        responses,
      };
      loaded.set(id, result);
      return result;
    }
  }
  throw new Error(`fake Klaviyo: no operation ${id} in ${id}.json`);
}

/** Klaviyo's JSON:API error pointer of an Ajv error (`/data/attributes/email`). */
export function pointerOf(e: ErrorObject): string {
  const missing = e.keyword === 'required' ? `/${(e.params as { missingProperty: string }).missingProperty}` : '';
  return `${e.instancePath}${missing}` || '/data';
}

/** A human sentence of an Ajv error, in the manner of Klaviyo's `detail`. */
export function detailOf(e: ErrorObject): string {
  if (e.keyword === 'required') return `'${(e.params as { missingProperty: string }).missingProperty}' is a required property`;
  if (e.keyword === 'enum') {
    return `${JSON.stringify(e.data)} is not one of ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}`;
  }
  return `${JSON.stringify(e.data)} ${e.message ?? 'is invalid'}`;
}
