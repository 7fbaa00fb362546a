// One sync of an identity source, decided without I/O: which Users to create, update and
// terminate, which to leave alone, and whether the change guard holds the terminations back.
// A source changes only the Users it created (label rollcall.dev/source: <name>) and, on them,
// only the fields its mapping names.
import type { IdentitySource, IdentitySourceSpec, User } from '../api/index.ts';
import type { UserPatch } from '../api/index.ts';
import type { MappedFeed } from './map.ts';

export const SOURCE_LABEL = 'rollcall.dev/source';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const APPROVE_CHANGES_ANNOTATION = 'rollcall.dev/approve-changes';

/** A Kubernetes ownerReference as the API server takes it. */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller: boolean;
  blockOwnerDeletion: boolean;
}

/** A User a source creates names the source as its controller (kubectl shows who made it); none before the source has a uid. */
export function sourceOwnership(source: IdentitySource): { ownerReferences?: OwnerReference[] } {
  if (source.metadata.uid === undefined) return {};
  const { name, uid } = source.metadata;
  return { ownerReferences: [{ apiVersion: source.apiVersion, kind: 'IdentitySource', name, uid, controller: true, blockOwnerDeletion: false }] };
}

export interface SourceRef {
  name: string;
  namespace: string;
  spec: Pick<IdentitySourceSpec, 'missingPolicy' | 'changeGuard' | 'mapping' | 'terminationDate'>;
  annotations?: Record<string, string>;
}

export interface PlannedCreate {
  name: string;
  spec: User['spec'];
  labels: Record<string, string>;
}
export interface PlannedUpdate {
  name: string;
  resourceVersion?: string;
  patch: UserPatch;
  /** The fields that change, for status and Events. */
  fields: string[];
  rehire: boolean;
}
export interface PlannedTermination {
  name: string;
  resourceVersion?: string;
  state: 'terminated' | 'suspended';
  reason: 'missing' | 'leaver';
  patch: UserPatch;
}
export interface GuardVerdict {
  tripped: boolean;
  /** Terminations and suspensions this sync would make. */
  count: number;
  limit: number;
  /** Users of this source before the sync: the base of maxPercent. */
  managed: number;
  /** The annotation's count matched: this sync goes through. */
  approved: boolean;
}
export interface SourcePlan {
  creates: PlannedCreate[];
  updates: PlannedUpdate[];
  /** Applied unless the guard tripped. */
  terminations: PlannedTermination[];
  unchanged: string[];
  /** Names the feed wants that a User not created by this source holds. */
  collisions: Array<{ name: string; reason: string }>;
  /** Why Users missing from the feed were not terminated this time, if they were not. */
  missingSkipped?: string;
  guard: GuardVerdict;
}

/** The approved count in the annotation, or undefined when it is missing or not a whole number. */
export function approvedChangeCount(annotations: Record<string, string> | undefined): number | undefined {
  const text = annotations?.[APPROVE_CHANGES_ANNOTATION]?.trim();
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
}

/** The larger of maxCount and maxPercent of the managed Users: a guard trips only past both. */
export function changeLimit(guard: IdentitySourceSpec['changeGuard'], managed: number): number {
  return Math.max(guard.maxCount, Math.floor((managed * guard.maxPercent) / 100));
}

/**
 * `feed`: the records mapped at one instant (mapRecords resolved every date against `now` then).
 * `existing`: every User in the source's namespace, those of other owners too, to find collisions.
 */
export function planSourceSync(source: SourceRef, feed: MappedFeed, existing: readonly User[]): SourcePlan {
  const plan: SourcePlan = {
    creates: [],
    updates: [],
    terminations: [],
    unchanged: [],
    collisions: [],
    guard: { tripped: false, count: 0, limit: 0, managed: 0, approved: false },
  };
  const byName = new Map(existing.map((u) => [u.metadata.name, u]));
  const ours = existing.filter((u) => u.metadata.labels?.[SOURCE_LABEL] === source.name);
  const userNames = new Map(existing.map((u) => [u.spec.userName, u.metadata.name]));
  const managed = managedFields(source.spec);
  const seen = new Set<string>();

  for (const desired of feed.users) {
    seen.add(desired.name);
    const current = byName.get(desired.name);
    const wantedState = desired.leaver ? 'terminated' : 'active';
    if (!current) {
      const holder = userNames.get(desired.spec.userName!);
      if (holder !== undefined) {
        plan.collisions.push({ name: desired.name, reason: `userName ${desired.spec.userName} is held by User ${holder}` });
        continue;
      }
      // A leaver the source never created is not created just to be terminated.
      if (desired.leaver) continue;
      plan.creates.push({
        name: desired.name,
        spec: { ...desired.spec, state: 'active' } as User['spec'],
        labels: { ...desired.labels, [SOURCE_LABEL]: source.name, [MANAGED_BY_LABEL]: 'rollcall' },
      });
      continue;
    }
    const owner = current.metadata.labels?.[SOURCE_LABEL];
    if (owner !== source.name) {
      plan.collisions.push({
        name: desired.name,
        reason: owner === undefined ? `User ${desired.name} exists and was not created by a source` : `User ${desired.name} belongs to source ${owner}`,
      });
      continue;
    }
    if (current.metadata.deletionTimestamp !== undefined) {
      plan.unchanged.push(desired.name);
      continue;
    }
    const patch = diff(current, desired.spec, desired.labels, managed);
    if (patch.spec?.userName !== undefined) {
      plan.collisions.push({
        name: desired.name,
        reason: `userName would change from ${current.spec.userName} to ${desired.spec.userName}, but it is immutable`,
      });
      continue;
    }
    const fields = [...Object.keys(patch.spec ?? {}), ...Object.keys(patch.labels ?? {}).map((l) => `labels/${l}`)];
    if (wantedState === 'terminated' && current.spec.state !== 'terminated') {
      plan.terminations.push({
        name: desired.name,
        resourceVersion: current.metadata.resourceVersion,
        state: 'terminated',
        reason: 'leaver',
        patch: withState(patch, 'terminated'),
      });
    } else if (wantedState === 'active' && current.spec.state !== 'active') {
      // A rehire: the same User comes back, with its history and labels.
      plan.updates.push({
        name: desired.name,
        resourceVersion: current.metadata.resourceVersion,
        patch: withState(patch, 'active'),
        fields: [...fields, 'state'],
        rehire: true,
      });
    } else if (fields.length > 0) {
      plan.updates.push({ name: desired.name, resourceVersion: current.metadata.resourceVersion, patch, fields, rehire: false });
    } else {
      plan.unchanged.push(desired.name);
    }
  }

  const unseen = ours.filter((u) => !seen.has(u.metadata.name));
  for (const user of unseen)
    if (feed.protectedNames.has(user.metadata.name) || user.metadata.deletionTimestamp !== undefined) plan.unchanged.push(user.metadata.name);
  const missing = unseen.filter((u) => !feed.protectedNames.has(u.metadata.name) && u.metadata.deletionTimestamp === undefined);
  const policy = source.spec.missingPolicy;
  if (policy !== 'ignore' && missing.length > 0 && feed.unidentified > 0) {
    plan.missingSkipped = `${feed.unidentified} record(s) could not be identified, so no User is taken for missing`;
  }
  for (const user of missing) {
    const state = policy === 'suspend' ? 'suspended' : 'terminated';
    if (policy === 'ignore' || plan.missingSkipped !== undefined || user.spec.state === 'terminated' || user.spec.state === state) {
      plan.unchanged.push(user.metadata.name);
      continue;
    }
    plan.terminations.push({ name: user.metadata.name, resourceVersion: user.metadata.resourceVersion, state, reason: 'missing', patch: { spec: { state } } });
  }

  const count = plan.terminations.length;
  const limit = changeLimit(source.spec.changeGuard, ours.length);
  const approved = count > limit && approvedChangeCount(source.annotations) === count;
  plan.guard = { tripped: count > limit && !approved, count, limit, managed: ours.length, approved };
  return plan;
}

type ManagedSet = { fields: Set<string>; attributes: Set<string>; labels: Set<string> };

/** The fields this source's mapping writes: the only ones it compares and changes. */
function managedFields(spec: SourceRef['spec']): ManagedSet {
  const set: ManagedSet = { fields: new Set(['userName']), attributes: new Set(), labels: new Set() };
  for (const m of spec.mapping) {
    if (m.to.startsWith('labels/')) set.labels.add(m.to.slice(7));
    else if (m.to.startsWith('attributes/')) set.attributes.add(m.to.slice(11));
    else set.fields.add(m.to);
  }
  if (spec.terminationDate) set.fields.add('validUntil');
  return set;
}

function diff(current: User, desired: Record<string, unknown>, labels: Record<string, string>, managed: ManagedSet): UserPatch {
  const spec: Record<string, unknown> = {};
  for (const field of managed.fields) {
    const want = desired[field] as string | undefined;
    const have = (current.spec as Record<string, unknown>)[field];
    // employeeType has a default: an empty value means the default, not a change.
    if (field === 'employeeType' && want === undefined) continue;
    if (!sameValue(field, want, have)) spec[field] = want ?? null;
  }
  const attributes: Record<string, string | null> = {};
  const wantAttributes = (desired.attributes ?? {}) as Record<string, string>;
  for (const key of managed.attributes) {
    if ((wantAttributes[key] ?? undefined) !== current.spec.attributes?.[key]) attributes[key] = wantAttributes[key] ?? null;
  }
  if (Object.keys(attributes).length > 0) spec.attributes = attributes;
  const labelPatch: Record<string, string | null> = {};
  for (const key of managed.labels) {
    if (labels[key] !== current.metadata.labels?.[key]) labelPatch[key] = labels[key] ?? null;
  }
  const patch: UserPatch = {};
  if (Object.keys(spec).length > 0) patch.spec = spec as UserPatch['spec'];
  if (Object.keys(labelPatch).length > 0) patch.labels = labelPatch;
  return patch;
}

/** Timestamps compare as instants: the API server may write the same instant differently. */
function sameValue(field: string, want: string | undefined, have: unknown): boolean {
  if (want === undefined || have === undefined) return want === have;
  if (field === 'validFrom' || field === 'validUntil') return Date.parse(want) === Date.parse(String(have));
  return want === have;
}

function withState(patch: UserPatch, state: 'active' | 'terminated'): UserPatch {
  return { ...patch, spec: { ...patch.spec, state } };
}
