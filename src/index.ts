/**
 * keel's public API. Everything exported here is typed and documented; internal modules
 * are not part of the contract.
 */
export { KeelError, TransitionError, BadInputError, ERROR_CODES } from './domain/errors.js';
export type { ErrorCode, FieldIssue } from './domain/errors.js';
