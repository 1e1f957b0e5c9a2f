/**
 * Checks argument values against openEO parameter schemas (JSON Schema, or
 * an array of alternatives), the way back-ends validate the arguments of a
 * user-defined process before running it. Validation is done by Ajv.
 */
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

// openEO schemas carry their own keywords (`subtype`, `parameters`, `deprecated`): not strict.
const ajv = new Ajv({ strict: false, allErrors: false, validateFormats: true });
addFormats(ajv);

const compiled = new WeakMap<object, ValidateFunction>();

/**
 * A parameter's `schema`: one JSON Schema, or a list of alternatives (any of them).
 *
 * @inline
 */
export type ParameterSchema = Record<string, unknown> | ReadonlyArray<Record<string, unknown>>;

function validatorFor(schema: ParameterSchema): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(Array.isArray(schema) ? { anyOf: schema } : schema);
    compiled.set(schema, validate);
  }
  return validate;
}

/**
 * Why `value` does not satisfy `schema`, in words (e.g. "must be array"),
 * or `null` when it does.
 */
export function schemaMismatch(schema: ParameterSchema, value: unknown): string | null {
  const validate = validatorFor(schema);
  if (validate(value)) return null;
  return ajv.errorsText(validate.errors, { dataVar: 'value', separator: '; ' });
}

/**
 * True for values a back-end can only know when the process runs: a
 * reference to a parameter or to another node's result, anywhere inside the
 * value. Those are never rejected ahead of time (the openEO API forbids it
 * for validation).
 */
export function isDeferredValue(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(isDeferredValue);
  if (typeof value !== 'object' || value === null) return false;
  if ('from_parameter' in value || 'from_node' in value) return true;
  return Object.values(value).some(isDeferredValue);
}
