import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

/**
 * Two validators instead of fastify's one: bodies are validated as sent (no type coercion, no
 * silent removal of unknown fields, so `"autoStart": "yes"` and typos are 400s), while query
 * strings and path parameters, which arrive as text, are coerced to their schema types.
 */
function ajv(options: Options): Ajv {
  const instance = new Ajv({ allErrors: false, useDefaults: true, strict: false, ...options });
  addFormats.default(instance);
  return instance;
}

export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const strict = ajv({ coerceTypes: false, removeAdditional: false });
  const coercing = ajv({ coerceTypes: 'array', removeAdditional: false });
  return ({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema as object);
}
