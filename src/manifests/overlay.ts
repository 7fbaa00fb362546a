// The manifests of a directory laid over what a cluster holds, as `kubectl diff` shows what a
// `kubectl apply` of them would leave: for `rollcall plan -f DIR --kubeconfig`, reviewing a GitOps
// change against the live state. Pure: nothing is written anywhere.
//
// An object in both keeps what the cluster's controllers and people gave it (status, finalizers,
// uid, creationTimestamp, deletionTimestamp): the status holds the accounts' recorded state, the
// deprovision clocks and the deletion guard's window, which the plan needs. Its spec is the file's,
// whole: the files own what Rollcall's objects declare. Labels and annotations merge as kubectl
// apply merges them, against what the files last set (kubectl's last-applied annotation): a key
// removed from the file goes, one added by someone else (`kubectl annotate ... approve-deprovision`)
// stays. An object only in the cluster stays (no prune); one only in the files is added.
import { isDeepStrictEqual } from 'node:util';
import type { AnyResource } from '../api/index.ts';
import type { LoadedObject } from './load.ts';
import { transitionViolations } from './rules.ts';

export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

export interface Overlay {
  /** The cluster's objects with the files' laid over them, and the files' Secrets and ConfigMaps. */
  objects: LoadedObject[];
  /** Changes the API server would refuse (an immutable field), as `Kind "name": field: message`. */
  problems: string[];
}

export function overlayManifests(stored: readonly AnyResource[], declared: readonly LoadedObject[]): Overlay {
  const id = (object: LoadedObject) => `${object.kind}/${object.metadata.namespace ?? 'default'}/${object.metadata.name}`;
  const result = new Map<string, LoadedObject>(stored.map((object) => [id(object), object]));
  const problems: string[] = [];
  for (const incoming of declared) {
    const current = result.get(id(incoming));
    if (incoming.kind === 'Secret' || incoming.kind === 'ConfigMap' || current === undefined || current.kind !== incoming.kind) {
      result.set(id(incoming), incoming);
      continue;
    }
    const refused = transitionViolations(incoming.kind, current as AnyResource, incoming);
    for (const v of refused) problems.push(`${incoming.kind} "${incoming.metadata.name}": ${v.field}: ${v.message}`);
    if (refused.length === 0) result.set(id(incoming), laidOver(current as AnyResource, incoming));
  }
  return { objects: [...result.values()], problems };
}

function laidOver(current: AnyResource, incoming: AnyResource): AnyResource {
  const last = lastApplied(current);
  const specChanged = !isDeepStrictEqual(current.spec, incoming.spec);
  const metadata = {
    ...current.metadata,
    labels: merged(current.metadata.labels, last.labels, incoming.metadata.labels),
    annotations: merged(current.metadata.annotations, last.annotations, incoming.metadata.annotations),
    // As the API server does: the controllers see a new generation only when the spec changed.
    generation: (current.metadata.generation ?? 1) + (specChanged ? 1 : 0),
  };
  return { ...current, metadata, spec: incoming.spec } as AnyResource;
}

/** kubectl apply's three-way merge of one string map: `last` is what the files set before. */
function merged(
  current: Record<string, string> | undefined,
  last: Record<string, string>,
  declared: Record<string, string> | undefined,
): Record<string, string> {
  const out = { ...current };
  for (const key of Object.keys(last)) if (!Object.hasOwn(declared ?? {}, key)) delete out[key];
  return Object.assign(out, declared);
}

/** The labels and annotations the last `kubectl apply` set; none when it was created otherwise. */
function lastApplied(object: AnyResource): { labels: Record<string, string>; annotations: Record<string, string> } {
  const text = object.metadata.annotations?.[LAST_APPLIED_ANNOTATION];
  let metadata: { labels?: unknown; annotations?: unknown } = {};
  try {
    if (text !== undefined) metadata = (JSON.parse(text) as { metadata?: typeof metadata }).metadata ?? {};
  } catch {
    // Not kubectl's: as if there were none.
  }
  return { labels: stringMap(metadata.labels), annotations: stringMap(metadata.annotations) };
}

function stringMap(value: unknown): Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}
