// Reads manifest files the way `kubectl apply -f DIR` (with strict field validation) would accept
// them, for the in-memory store behind `rollcall run --manifests DIR` and for tests. Every problem
// is collected, not just the first, so one run shows everything there is to fix.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Composer, LineCounter, Parser, type YAMLError } from 'yaml';
import { lineOfField } from './lines.ts';
import { API_VERSION, KINDS, KIND_NAMES, type KindName } from '../api/index.ts';
import { fieldPath, issueMessage, type ErrorContext, type ManifestError } from './errors.ts';
import { unknownFields } from './unknown-fields.ts';
import { ruleViolations } from './rules.ts';
import type { AnyResource } from '../api/index.ts';

export { formatManifestError, type ManifestError } from './errors.ts';

interface CoreMetadata {
  name: string;
  namespace: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
/** A core/v1 Secret with its data already decoded (stringData merged in, as the API server does). */
export interface SecretObject {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: CoreMetadata;
  data: Record<string, string>;
}
export interface ConfigMapObject {
  apiVersion: 'v1';
  kind: 'ConfigMap';
  metadata: CoreMetadata;
  data: Record<string, string>;
}
export type LoadedObject = AnyResource | SecretObject | ConfigMapObject;

export interface LoadResult {
  objects: LoadedObject[];
  /** The file each object came from, index for index. */
  files: string[];
  errors: ManifestError[];
}

interface Located {
  object: LoadedObject;
  where: ErrorContext;
}

const MANIFEST_FILE = /\.(ya?ml|json)$/i;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const CORE_FIELDS = {
  Secret: ['apiVersion', 'kind', 'metadata', 'data', 'stringData', 'type', 'immutable'],
  ConfigMap: ['apiVersion', 'kind', 'metadata', 'data', 'binaryData', 'immutable'],
  Namespace: ['apiVersion', 'kind', 'metadata', 'spec', 'status'],
} as const;
const SUPPORTED_KINDS = [...KIND_NAMES, 'Secret', 'ConfigMap', 'Namespace', 'List'];

/**
 * The largest manifest file read, in bytes (ROLLCALL_MAX_MANIFEST_BYTES to change it). Parsing
 * takes about 50 times a file's size in memory: the default (16 MiB, about 90,000 Users in one
 * file) keeps a load under 1 GiB; larger worlds are split into several files, each read in turn.
 */
export function maxManifestBytes(): number {
  const configured = Number(process.env.ROLLCALL_MAX_MANIFEST_BYTES);
  return Number.isSafeInteger(configured) && configured > 0 ? configured : 16 * 1024 * 1024;
}

/** Every .yaml, .yml and .json file under dir, recursively, in sorted order. */
export function loadManifests(dir: string): LoadResult {
  const located: Located[] = [];
  const errors: ManifestError[] = [];
  const limit = maxManifestBytes();
  for (const file of manifestFiles(dir)) {
    const size = statSync(file).size;
    if (size > limit) {
      errors.push({
        file,
        field: '',
        message: `the file has ${size} bytes, over the limit of ${limit} (ROLLCALL_MAX_MANIFEST_BYTES): split it into several files`,
      });
      continue;
    }
    const parsed = parseDocuments(readFileSync(file, 'utf8'), file);
    located.push(...parsed.located);
    errors.push(...parsed.errors);
  }
  return finish(located, errors);
}

export function parseManifests(text: string, file: string): LoadResult {
  const parsed = parseDocuments(text, file);
  return finish(parsed.located, parsed.errors);
}

function manifestFiles(dir: string): string[] {
  const entries = readdirSync(dir, { recursive: true, withFileTypes: true });
  return (
    entries
      .filter((entry) => entry.isFile() && MANIFEST_FILE.test(entry.name))
      .map((entry) => join(entry.parentPath, entry.name))
      // Editor lock and backup files (.#user.yaml) and hidden folders are not manifests.
      .filter(
        (file) =>
          !file
            .slice(dir.length)
            .split(/[\\/]/)
            .some((part) => part.startsWith('.')),
      )
      .sort()
  );
}

function parseDocuments(text: string, file: string): { located: Located[]; errors: ManifestError[] } {
  const located: Located[] = [];
  const errors: ManifestError[] = [];
  const lineCounter = new LineCounter();
  // One document at a time (what parseAllDocuments does, without holding them all): the syntax trees
  // of a 10,000-User file took about 300 MiB at once; each now goes once its object is made.
  const documents = new Composer().compose(new Parser(lineCounter.addNewLine).parse(text));
  let index = 0;
  for (const doc of documents) {
    const where: ErrorContext = { file, document: ++index };
    const yamlError = doc.errors[0];
    if (yamlError) {
      errors.push({ ...where, field: '', message: `invalid YAML: ${whereYamlFailed(yamlError, lineCounter)}` });
      continue;
    }
    const first = errors.length;
    let raw: unknown;
    try {
      raw = doc.toJS(); // refuses alias bombs ("Excessive alias count")
    } catch (error) {
      errors.push({ ...where, field: '', message: `invalid YAML: ${error instanceof Error ? error.message : String(error)}` });
      continue;
    }
    if (raw === null || raw === undefined) continue;
    const refused = refusedKeyOrValue(raw);
    if (refused !== undefined) errors.push({ ...where, field: fieldPath(refused.path), message: refused.message });
    else parseObject(raw, where, located, errors);
    for (const error of errors.slice(first)) error.line = lineOfField(doc, lineCounter, error.item, error.field);
  }
  return { located, errors };
}

/** A YAML error's first line as parseAllDocuments words it (then where: its line, column). */
function whereYamlFailed(error: YAMLError, lines: LineCounter): string {
  if (error.pos[0] === -1) return error.message.split('\n')[0]!;
  const { line, col } = lines.linePos(error.pos[0]);
  return `${error.message} at line ${line}, column ${col}`.split('\n')[0]!;
}

const PROTOTYPE_KEY = 'the key "__proto__" is not allowed';
// LDAP and PostgreSQL would store U+FFFD in its place, so the account would be rewritten on every pass.
const ILL_FORMED = 'must be well-formed Unicode: it holds an unpaired surrogate (a "\\uD800"-style escape), which no system can store';

/**
 * The first key or value that is refused by path, and why. A `__proto__` key: YAML keeps it as a
 * plain key, but a JavaScript object built from it would change its prototype instead of gaining a
 * field. A string that is not well-formed UTF-16: only an escape in a quoted scalar can make one.
 */
function refusedKeyOrValue(value: unknown, path: Array<string | number> = []): { path: Array<string | number>; message: string } | undefined {
  if (typeof value === 'string') return value.isWellFormed() ? undefined : { path, message: ILL_FORMED };
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = refusedKeyOrValue(item, [...path, index]);
      if (found) return found;
    }
  } else if (isRecord(value)) {
    for (const [key, item] of Object.entries(value)) {
      if (key === '__proto__') return { path: [...path, key], message: PROTOTYPE_KEY };
      if (!key.isWellFormed()) return { path: [...path, key], message: ILL_FORMED };
      const found = refusedKeyOrValue(item, [...path, key]);
      if (found) return found;
    }
  }
  return undefined;
}

function parseObject(raw: unknown, where: ErrorContext, located: Located[], errors: ManifestError[]): void {
  if (!isRecord(raw)) {
    errors.push({ ...where, field: '', message: 'must be an object with apiVersion, kind and metadata' });
    return;
  }
  const kind = typeof raw.kind === 'string' ? raw.kind : undefined;
  const metadata = isRecord(raw.metadata) ? raw.metadata : undefined;
  const name = typeof metadata?.name === 'string' ? metadata.name : undefined;
  const here: ErrorContext = { ...where, kind, name };
  const report = (field: string, message: string) => errors.push({ ...here, field, message });

  if (kind === 'List' && where.item === undefined) {
    if (raw.apiVersion !== 'v1') report('apiVersion', 'must be v1 for kind List');
    if (!Array.isArray(raw.items)) return void report('items', 'must be a list of objects');
    raw.items.forEach((item, index) => parseObject(item, { ...where, item: index }, located, errors));
    return;
  }
  if (typeof raw.apiVersion !== 'string') report('apiVersion', 'is required');
  if (kind === undefined) report('kind', 'is required');
  if (name === undefined) report('metadata.name', 'is required');
  if (typeof raw.apiVersion !== 'string' || kind === undefined || name === undefined || metadata === undefined) return;

  if (!DNS_SUBDOMAIN.test(name)) report('metadata.name', 'must be a lowercase DNS-1123 name (a-z, 0-9, "-" and ".")');
  const namespace = metadata.namespace ?? 'default';
  if (typeof namespace !== 'string' || !DNS_LABEL.test(namespace)) report('metadata.namespace', 'must be a lowercase DNS-1123 label (a-z, 0-9 and "-")');
  const before = errors.length;
  const object = isKindName(kind) ? parseResource(kind, raw, report) : parseCore(kind, raw, report);
  if (object && errors.length === before) {
    object.metadata.namespace = namespace as string;
    located.push({ object, where: here });
  }
}

function parseResource(kind: KindName, raw: Record<string, unknown>, report: (field: string, message: string) => void): AnyResource | undefined {
  if (raw.apiVersion !== API_VERSION) return void report('apiVersion', `must be ${API_VERSION} for kind ${kind}`);
  const schema = KINDS[kind].resource;
  for (const path of unknownFields(schema, raw)) report(fieldPath(path), 'unknown field');
  const result = schema.safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues) report(fieldPath(issue.path), issueMessage(issue, raw));
    return undefined;
  }
  const object = result.data as AnyResource;
  for (const violation of ruleViolations(kind, object)) report(violation.field, violation.message);
  // The API server ignores status on create: status belongs to the controller.
  delete object.status;
  return object;
}

function parseCore(kind: string, raw: Record<string, unknown>, report: (field: string, message: string) => void): SecretObject | ConfigMapObject | undefined {
  if (!(kind in CORE_FIELDS)) {
    return void report('kind', `unknown kind "${kind}"; expected one of ${SUPPORTED_KINDS.join(', ')}`);
  }
  const coreKind = kind as keyof typeof CORE_FIELDS;
  if (raw.apiVersion !== 'v1') return void report('apiVersion', `must be v1 for kind ${kind}`);
  const known: readonly string[] = CORE_FIELDS[coreKind];
  for (const field of Object.keys(raw)) if (!known.includes(field)) report(field, 'unknown field');
  if (coreKind === 'Namespace') return undefined;

  const metadata = coreMetadata(raw.metadata as Record<string, unknown>);
  const data = stringMap(raw.data, 'data', report);
  if (coreKind === 'ConfigMap') return { apiVersion: 'v1', kind: 'ConfigMap', metadata, data };

  const decoded: Record<string, string> = {};
  for (const [key, value] of Object.entries(data)) {
    if (!isBase64(value)) report(`data.${key}`, 'must be base64-encoded; put plain text under stringData instead');
    else decoded[key] = Buffer.from(value, 'base64').toString('utf8');
  }
  // stringData wins over data, as on the API server.
  Object.assign(decoded, stringMap(raw.stringData, 'stringData', report));
  return { apiVersion: 'v1', kind: 'Secret', metadata, data: decoded };
}

function coreMetadata(metadata: Record<string, unknown>): CoreMetadata {
  const out: CoreMetadata = { name: metadata.name as string, namespace: 'default' };
  if (isRecord(metadata.labels)) out.labels = metadata.labels as Record<string, string>;
  if (isRecord(metadata.annotations)) out.annotations = metadata.annotations as Record<string, string>;
  return out;
}

function stringMap(value: unknown, field: string, report: (field: string, message: string) => void): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) return (report(field, 'must be a map of strings'), {});
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (typeof item === 'string') out[key] = item;
    else report(`${field}.${key}`, `must be a string, not ${typeof item}`);
  }
  return out;
}

function isBase64(value: string): boolean {
  return value.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(value);
}

/** Two manifests for one kind/namespace/name: both are reported, neither is kept. */
function finish(located: Located[], errors: ManifestError[]): LoadResult {
  const byKey = new Map<string, Located[]>();
  for (const entry of located) {
    const key = `${entry.object.kind}/${entry.object.metadata.namespace}/${entry.object.metadata.name}`;
    byKey.set(key, [...(byKey.get(key) ?? []), entry]);
  }
  const objects: LoadedObject[] = [];
  const files: string[] = [];
  for (const entries of byKey.values()) {
    if (entries.length === 1) {
      objects.push(entries[0]!.object);
      files.push(entries[0]!.where.file);
      continue;
    }
    for (const entry of entries) {
      const others = entries.filter((other) => other !== entry).map((other) => place(other.where));
      const namespace = entry.object.metadata.namespace;
      errors.push({
        ...entry.where,
        field: 'metadata.name',
        message: `duplicate ${entry.object.kind} ${namespace}/${entry.object.metadata.name}, also in ${others.join(', ')}`,
      });
    }
  }
  return { objects, files, errors };
}

function place(where: ErrorContext): string {
  return where.item === undefined ? `${where.file} (document ${where.document})` : `${where.file} (document ${where.document}, item ${where.item})`;
}

function isKindName(kind: string): kind is KindName {
  return (KIND_NAMES as string[]).includes(kind);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
