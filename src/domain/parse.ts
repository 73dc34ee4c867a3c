/**
 * Parsing at boundaries: one function turns a zod failure into a BadInputError that names
 * the path of every bad field, so every boundary (CLI, HTTP, config) answers the same way.
 */
import type { z } from 'zod';
import { BadInputError, ERROR_CODES, type ErrorCode, type FieldIssue } from './errors.js';

export function issuesOf(error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map((part) => String(part)).join('.'),
    message: issue.message,
  }));
}

/** Parses `value` with `schema`, or throws a BadInputError naming every bad field. */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
  code: ErrorCode = ERROR_CODES.badInput,
): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new BadInputError(what, issuesOf(result.error), code);
  return result.data;
}
