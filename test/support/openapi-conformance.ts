import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { ValidateFunction } from 'ajv';
import { expect } from 'vitest';

// ajv and ajv-formats are CommonJS with a default export; under NodeNext the class sits on .default.
const Ajv2020 = Ajv2020Module.default;
const addFormats = addFormatsModule.default;

type SchemaObject = Record<string, unknown>;
interface HeaderObject {
  required?: boolean;
  schema?: unknown;
}
interface ResponseObject {
  description: string;
  headers?: Record<string, HeaderObject>;
  content?: Record<string, { schema?: unknown }>;
}
export interface OpenApiOperation {
  operationId?: string;
  parameters?: { name: string; in: string; schema?: unknown }[];
  requestBody?: { content: Record<string, { schema?: unknown }> };
  responses: Record<string, ResponseObject>;
}
export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, unknown> };
}

/** One answer, as read back after it was checked. */
export interface CheckedAnswer {
  status: number;
  headers: Headers;
  /** Parsed JSON, the text of anything else, or '' for no body. */
  body: unknown;
}

const DOCUMENT_ID = 'openapi.json';
/** OpenAPI's top-level fields: known to Ajv so that it can hold the whole document as a schema, strictly. */
const DOCUMENT_FIELDS = ['openapi', 'info', 'jsonSchemaDialect', 'servers', 'paths', 'webhooks', 'components', 'security', 'tags', 'externalDocs'];
const PROBLEM_JSON = 'application/problem+json';

/**
 * Checks real answers against an OpenAPI 3.1 document: the status is one the operation declares,
 * the media type one that response declares, the body valid against its schema (JSON Schema
 * 2020-12, `$ref`s resolved inside the document), required headers present and valid. Schemas
 * compile in Ajv's strict mode, so an unknown keyword or format fails too.
 *
 * Success bodies (everything but problem documents, whose RFC 9457 extension members are open)
 * are checked closed: an object schema that lists properties and says nothing of others gets
 * `additionalProperties: false` here, so a field the code sends and the document does not name
 * fails. Objects under `allOf` stay open (closing each part would refuse the other parts' fields).
 */
export class OpenApiConformance {
  /** `METHOD /template status` of every answer checked. */
  readonly seen = new Set<string>();
  private readonly ajv = addFormats(new Ajv2020({ allErrors: true, strict: true }));
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(private readonly document: OpenApiDocument) {
    this.ajv.addVocabulary(DOCUMENT_FIELDS);
    this.ajv.addSchema(closeSuccessBodies(document) as unknown as SchemaObject, DOCUMENT_ID);
  }

  /** A validator for the schema at `pointer` (JSON pointer segments) in the document. */
  validatorAt(...segments: string[]): ValidateFunction {
    const pointer = segments.map((s) => encodeURIComponent(s.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/');
    let validate = this.compiled.get(pointer);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `${DOCUMENT_ID}#/${pointer}` });
      this.compiled.set(pointer, validate);
    }
    return validate;
  }

  /** Reads `response` and checks it as an answer of `method template`; returns what it read. */
  async check(method: string, template: string, response: Response): Promise<CheckedAnswer> {
    const label = `${method.toUpperCase()} ${template}`;
    const operation = this.document.paths[template]?.[method.toLowerCase()];
    if (!operation) throw new Error(`the document has no operation ${label}`);
    const text = await response.text();
    const status = String(response.status);
    this.seen.add(`${label} ${status}`);
    const declared = operation.responses[status];
    expect(declared, `${label} answered ${status}, which the document does not declare (it declares ${Object.keys(operation.responses).join(', ')}): ${text.slice(0, 300)}`).toBeDefined();

    for (const [name, header] of Object.entries(declared!.headers ?? {})) {
      const value = response.headers.get(name);
      if (value === null) {
        expect(header.required, `${label} ${status} lacks the required header ${name}`).not.toBe(true);
        continue;
      }
      this.expectValid(this.validatorAt('paths', template, method.toLowerCase(), 'responses', status, 'headers', name, 'schema'), value, `${label} ${status} header ${name}`);
    }

    if (!declared!.content) {
      expect(text, `${label} ${status} declares no body`).toBe('');
      return { status: response.status, headers: response.headers, body: '' };
    }
    const mediaType = (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
    expect(Object.keys(declared!.content), `${label} ${status} answered ${mediaType || 'no Content-Type'}`).toContain(mediaType);
    const body = /[/+]json$/.test(mediaType) ? (JSON.parse(text) as unknown) : text;
    this.expectValid(this.validatorAt('paths', template, method.toLowerCase(), 'responses', status, 'content', mediaType, 'schema'), body, `${label} ${status} body`);
    if (mediaType === PROBLEM_JSON) expect((body as { status?: unknown }).status, `${label}: the problem's status member`).toBe(response.status);
    return { status: response.status, headers: response.headers, body };
  }

  private expectValid(validate: ValidateFunction, value: unknown, what: string) {
    if (validate(value)) return;
    const errors = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`).join('; ');
    expect.fail(`${what} does not match the document: ${errors}; value: ${JSON.stringify(value).slice(0, 300)}`);
  }
}

/** A copy of the document whose non-problem response bodies are closed (see the class). */
function closeSuccessBodies(document: OpenApiDocument): OpenApiDocument {
  const copy = structuredClone(document);
  for (const operations of Object.values(copy.paths)) {
    for (const operation of Object.values(operations)) {
      for (const response of Object.values(operation.responses)) {
        for (const [mediaType, media] of Object.entries(response.content ?? {})) {
          if (mediaType !== PROBLEM_JSON) close(media.schema);
        }
      }
    }
  }
  return copy;
}

function close(schema: unknown): void {
  if (Array.isArray(schema)) return schema.forEach(close);
  if (!schema || typeof schema !== 'object') return;
  const object = schema as SchemaObject;
  const properties = object.properties as SchemaObject | undefined;
  if (object.type === 'object' && properties && Object.keys(properties).length > 0 && !('additionalProperties' in object) && !('unevaluatedProperties' in object)) {
    object.additionalProperties = false;
  }
  for (const [keyword, value] of Object.entries(object)) {
    if (keyword === 'allOf' || keyword === 'const' || keyword === 'enum' || keyword === 'default' || keyword === 'examples') continue;
    if (keyword === 'properties' || keyword === 'patternProperties' || keyword === '$defs') Object.values(value as SchemaObject).forEach(close);
    else close(value);
  }
}
