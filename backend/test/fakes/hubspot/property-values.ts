import { READ_ONLY_PROPERTIES } from './builtins';
import type { PropertyProblem } from './errors';

/**
 * Checks property values the way HubSpot's CRM object APIs do: the property must exist and be writable,
 * numbers must be plain decimals, dates midnight-UTC epoch ms, datetimes epoch ms (or ISO 8601),
 * enumeration/bool values one of the options, emails well formed; non-string values must not carry leading
 * or trailing whitespace. Empty string clears a value and is always accepted.
 */

export interface PropertyShape {
  type: string;
  fieldType?: string;
  options: string[];
}

type Json = Record<string, unknown>;

export function shapeOf(definition: Json): PropertyShape {
  const options = Array.isArray(definition.options)
    ? (definition.options as Json[]).map((o) => String(o.value))
    : [];
  const type = String(definition.type);
  return { type, fieldType: definition.fieldType as string | undefined, options: type === 'bool' && options.length === 0 ? ['true', 'false'] : options };
}

const NUMBER = /^-?(\d+\.?\d*|\.\d+)$/;
const EPOCH_MS = /^-?\d+$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function checkValue(name: string, value: string, shape: PropertyShape): PropertyProblem | null {
  if (value === '') return null;
  const problem = (error: string, message: string): PropertyProblem => ({ name, error, message, propertyValue: value });
  if (shape.type !== 'string' && shape.type !== 'phone_number' && value !== value.trim()) {
    return problem('LEADING_TRAILING_WHITESPACE', `"${value}" includes leading or trailing whitespace.`);
  }
  switch (shape.type) {
    case 'number':
      return NUMBER.test(value) ? null : problem('INVALID_INTEGER', `${value} was not a valid number.`);
    case 'date': {
      if (ISO_DATE.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`))) return null;
      if (!EPOCH_MS.test(value)) return problem('INVALID_DATE', `${value} is not a valid date: use midnight-UTC epoch milliseconds.`);
      const d = new Date(Number(value));
      const rest = d.getUTCHours() + d.getUTCMinutes() + d.getUTCSeconds() + d.getUTCMilliseconds();
      return rest === 0
        ? null
        : problem(
            'INVALID_DATE',
            `${value} is at ${d.getUTCHours()}:${d.getUTCMinutes()}:${d.getUTCSeconds()}.${d.getUTCMilliseconds()} UTC, not midnight!`,
          );
    }
    case 'datetime':
      if (EPOCH_MS.test(value) || (ISO_DATETIME.test(value) && !Number.isNaN(Date.parse(value))) || ISO_DATE.test(value)) return null;
      return problem('INVALID_DATETIME', `${value} was not a valid datetime: use epoch milliseconds or ISO 8601.`);
    case 'enumeration':
    case 'bool': {
      const values = shape.fieldType === 'checkbox' ? value.split(';') : [value];
      const bad = values.find((v) => !shape.options.includes(v));
      return bad === undefined
        ? null
        : problem('INVALID_OPTION', `${bad} was not one of the allowed options: [${shape.options.join(', ')}]`);
    }
    default:
      if (name === 'email' && !EMAIL.test(value)) return problem('INVALID_EMAIL', `Email address ${value} is invalid`);
      return null;
  }
}

/**
 * Problems with writing `properties` given the definitions, in input order. `lookup` answers the shape of
 * a property, or undefined when it does not exist.
 */
export function checkProperties(
  properties: Record<string, string>,
  lookup: (name: string) => PropertyShape | undefined,
): PropertyProblem[] {
  const problems: PropertyProblem[] = [];
  for (const [name, value] of Object.entries(properties)) {
    const shape = lookup(name);
    if (!shape) {
      problems.push({ name, error: 'PROPERTY_DOESNT_EXIST', message: `Property "${name}" does not exist` });
      continue;
    }
    if (READ_ONLY_PROPERTIES.has(name)) {
      problems.push({ name, error: 'READ_ONLY_VALUE', message: `"${name}" is a read only property; its value cannot be set.` });
      continue;
    }
    const p = checkValue(name, value, shape);
    if (p) problems.push(p);
  }
  return problems;
}

/** Values as HubSpot stores them: emails lower-case, trimmed. */
export function normalizeValues(properties: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(properties)) out[k] = k === 'email' ? v.trim().toLowerCase() : v;
  return out;
}
