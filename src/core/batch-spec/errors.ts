/**
 * Errors raised while validating a user's job spec.
 *
 * Every error names the offending field (as a dotted path into the spec, e.g.
 * `tiles.aoi.crs`) and says how to fix it, so a CLI can print it as-is and a
 * caller can react to `code` without parsing the message.
 */

/**
 * What went wrong in a spec, where, and how to fix it.
 *
 * @inline
 */
export interface SpecErrorDetails {
  /** Dotted path of the offending field, e.g. `tiles.features[3].geometry`. */
  field: string;
  /** What is wrong, e.g. "unknown CRS 'EPSG:9999'". */
  problem: string;
  /** What the user should do about it, phrased as an instruction. */
  fix: string;
  /** Stable machine-readable identifier, e.g. `unknown_crs`. */
  code: string;
}

/** A problem in the user's spec; the message reads `<field>: <problem>: <fix>`. */
export class SpecError extends Error {
  readonly field: string;
  readonly problem: string;
  readonly fix: string;
  readonly code: string;

  constructor(details: SpecErrorDetails) {
    super(`${details.field}: ${details.problem}: ${details.fix}`);
    this.name = 'SpecError';
    this.field = details.field;
    this.problem = details.problem;
    this.fix = details.fix;
    this.code = details.code;
  }
}

/** A spec with one or more problems; `issues` lists each with its field and fix. */
export class InvalidSpecError extends Error {
  /** The failure's code, as a batch that fails on its spec reports it. */
  readonly code = 'InvalidBatchSpec';
  /** @param issues - every problem of the spec, each with its field, what is wrong and how to fix it. */
  constructor(readonly issues: SpecErrorDetails[]) {
    super(`the batch spec is invalid:\n${issues.map((i) => `  - ${i.field}: ${i.problem}: ${i.fix}`).join('\n')}`);
    this.name = 'InvalidSpecError';
  }

  /** The invalid-spec error of one spec problem. */
  static from(err: SpecError): InvalidSpecError {
    return new InvalidSpecError([{ field: err.field, problem: err.problem, fix: err.fix, code: err.code }]);
  }
}
