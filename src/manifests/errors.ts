// What went wrong in a manifest, said the way `kubectl apply` says it: which file, which object,
// which field, and why, on one line a person can act on.
import type { z } from 'zod';

export interface ManifestError {
  file: string;
  /** 1-based position of the YAML document in the file; absent when the whole file is refused. */
  document?: number;
  /** 0-based index inside a `kind: List`, when the object came from one. */
  item?: number;
  kind?: string;
  name?: string;
  /** Path of the offending field, such as spec.validUntil or spec.grants[0].system; empty for the whole object. */
  field: string;
  /** 1-based line in the file of the field (or of the document, when the field is not in the file). */
  line?: number;
  message: string;
}

export type ErrorContext = Omit<ManifestError, 'field' | 'message'>;

export function formatManifestError(error: ManifestError): string {
  if (error.document === undefined) return `${error.file}: ${error.message}`;
  const subject = error.kind ? (error.name ? `${error.kind} "${error.name}"` : error.kind) : 'object';
  const line = error.line === undefined ? '' : `, line ${error.line}`;
  const where = error.item === undefined ? `document ${error.document}${line}` : `document ${error.document}, item ${error.item}${line}`;
  const field = error.field ? `${error.field}: ` : '';
  return `${error.file}: ${subject} (${where}): ${field}${error.message}`;
}

/** spec.grants[0].system, the way kubectl names fields. */
export function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

const FORMAT_MESSAGES: Record<string, string> = {
  datetime: 'must be an RFC 3339 date-time such as 2026-12-31T17:00:00Z',
  email: 'must be an e-mail address',
  url: 'must be a URL',
};

/** zod's messages name zod's notions ("Invalid option"); these name the manifest's. */
export function issueMessage(issue: z.core.$ZodIssue, input: unknown): string {
  switch (issue.code) {
    case 'invalid_value':
      return issue.values.length === 1 ? `must be ${String(issue.values[0])}` : `must be one of ${issue.values.map(String).join(', ')}`;
    case 'invalid_type': {
      const value = valueAt(input, issue.path);
      if (value === undefined) return 'is required';
      return `must be ${article(issue.expected)}, not ${describeType(value)}`;
    }
    case 'invalid_format':
      // A custom message from the schema (duration, DNS name, ...) already speaks the manifest's language.
      if (!issue.message.startsWith('Invalid')) return issue.message;
      return FORMAT_MESSAGES[issue.format] ?? `must be a valid ${issue.format}`;
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? 'at least' : 'at most';
      const limit = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      if (issue.origin === 'string') return `must be ${bound} ${String(limit)} characters long`;
      if (issue.origin === 'array') return `must have ${bound} ${String(limit)} items`;
      return `must be ${bound} ${String(limit)}`;
    }
    default:
      return issue.message;
  }
}

function valueAt(input: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let node = input;
  for (const part of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[part];
  }
  return node;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function article(expected: string): string {
  if (expected === 'object') return 'an object';
  if (expected === 'record') return 'a map';
  if (expected === 'array') return 'a list';
  if (expected === 'int') return 'an integer';
  return `a ${expected}`;
}

/**
 * An apply refused as a whole, as the API server refuses an update that breaks a transition rule
 * (a changed immutable field): nothing of it was applied. `problems` has one line per object.
 */
export class ApplyRefusedError extends Error {
  readonly problems: string[];
  /** The objects refused, as "Kind/namespace/name". */
  readonly refused: string[];

  constructor(problems: string[], refused: string[] = []) {
    super(`the change was refused, nothing was applied:\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
    this.name = 'ApplyRefusedError';
    this.problems = problems;
    this.refused = refused;
  }
}
