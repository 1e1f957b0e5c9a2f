/**
 * openEO error responses: the codes the emulator uses, their HTTP status,
 * and an exception type that route handlers throw to answer with one.
 */

/** HTTP status per openEO error code (standard codes plus a few emulator-specific ones). */
export const ERROR_STATUS = {
  // Standard openEO codes (status as defined by the openEO API 1.2 error list).
  Internal: 500,
  NotFound: 404,
  UnsupportedApiVersion: 404,
  CollectionNotFound: 404,
  ProcessGraphMissing: 400,
  ProcessGraphInvalid: 400,
  ProcessUnsupported: 400,
  ProcessParameterUnsupported: 400,
  ProcessParameterRequired: 400,
  ProcessParameterInvalid: 400,
  JobNotFound: 404,
  JobNotFinished: 400,
  JobLocked: 400,
  ResultLinkExpired: 410,
  AuthenticationRequired: 401,
  AuthenticationSchemeInvalid: 403,
  TokenInvalid: 403,
  CredentialsInvalid: 403,
  PermissionsInsufficient: 403,
  InfrastructureBusy: 503,
  // A per-user quota (concurrent requests, job starts per minute) was reached, as on CDSE.
  TooManyRequests: 429,
  // Emulator-specific codes for situations the standard list does not name.
  MethodNotAllowed: 405,
  RequestBodyInvalid: 400,
  PayloadTooLarge: 413,
  ParameterInvalid: 400,
  ResultLinkInvalid: 403,
  RangeNotSatisfiable: 416,
  ProcessNamespaceInvalid: 400,
  // What save_result raises on openeo-python-driver back-ends (CDSE) for an unknown format.
  FormatUnsuitable: 400,
  // What openEO's load_collection and filter_temporal raise for an interval that ends before it starts.
  TemporalExtentEmpty: 400,
  // What CDSE answers when a user starts more jobs than allowed at once.
  ConcurrentJobLimit: 400,
} as const;

/** An error code the emulator can answer with. */
export type ErrorCode = keyof typeof ERROR_STATUS;

/** Body of every error response, as required by the openEO API. */
export interface ErrorBody {
  id: string;
  code: string;
  message: string;
  links: Array<{ href: string; rel: string }>;
}

/** Thrown by handlers; the server turns it into a JSON error response. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  /** Extra response headers, e.g. `Allow` for 405 or `WWW-Authenticate` for 401. */
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.headers = headers;
  }
}

/** Shorthand for the error of a job that does not exist or belongs to someone else. */
export function jobNotFound(jobId: string): ApiError {
  return new ApiError('JobNotFound', `No batch job with id '${jobId}' exists for this user.`);
}
