/**
 * Errors keel reports to people and API clients.
 * Every error carries a stable machine-readable `code` (never reworded once published)
 * and a message a person can act on.
 */

export const ERROR_CODES = {
  transition: 'KEEL_ERR_TRANSITION',
  badIntent: 'KEEL_ERR_BAD_INTENT',
  badInput: 'KEEL_ERR_BAD_INPUT',
  badConfig: 'KEEL_ERR_BAD_CONFIG',
  storeSchema: 'KEEL_ERR_STORE_SCHEMA',
  unknownIntent: 'KEEL_ERR_UNKNOWN_INTENT',
  duplicateClientOrderId: 'KEEL_ERR_DUPLICATE_CLIENT_ORDER_ID',
  closed: 'KEEL_ERR_CLOSED',
  blocked: 'KEEL_ERR_BLOCKED',
  /** A request that needs a working order (a replace) for an intent that has finished. */
  notWorking: 'KEEL_ERR_NOT_WORKING',
  store: 'KEEL_ERR_STORE',
} as const;

export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

export class KeelError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'KeelError';
    this.code = code;
  }
}

/**
 * Raised in strict mode when a lifecycle cannot accept an event in its current state.
 * `state` is the state the actor was in (it has not moved), `event` the refused event type.
 */
export class TransitionError extends KeelError {
  readonly state: string;
  readonly event: string;
  readonly machine: string;

  constructor(machine: string, state: string, event: string) {
    super(ERROR_CODES.transition, `${machine} in state ${state} cannot accept event ${event}`);
    this.name = 'TransitionError';
    this.machine = machine;
    this.state = state;
    this.event = event;
  }
}

/** One bad field of a rejected input, by its path (`events.3.qty`). */
export interface FieldIssue {
  path: string;
  message: string;
}

/** Bad input at a boundary: nothing was changed; every bad field is named. */
export class BadInputError extends KeelError {
  readonly issues: readonly FieldIssue[];

  constructor(what: string, issues: readonly FieldIssue[], code: ErrorCode = ERROR_CODES.badInput) {
    super(
      code,
      `${what}: ${issues.map((issue) => `${issue.path || '(root)'}: ${issue.message}`).join('; ')}`,
    );
    this.name = 'BadInputError';
    this.issues = issues;
  }
}
