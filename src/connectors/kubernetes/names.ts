// Names, labels and annotations of the bindings Rollcall creates. Deterministic, so a retried
// grant finds the binding an earlier attempt created, and DNS-safe whatever the userName holds.
import { createHash } from 'node:crypto';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'rollcall';
/** Which ConnectedSystem owns the binding: two systems never see each other's bindings. */
export const SYSTEM_LABEL = 'rollcall.dev/system';
/** A hash of the userName, so one user's bindings are selected server-side (label values cannot hold any userName). */
export const USER_KEY_LABEL = 'rollcall.dev/user-key';
/** The Rollcall userName verbatim: the subject may be an e-mail address, this maps it back. */
export const USER_ANNOTATION = 'rollcall.dev/user';
export const ENTITLEMENT_ANNOTATION = 'rollcall.dev/entitlement';

const LABEL_VALUE_MAX = 63;

export function shortHash(...parts: string[]): string {
  // NUL separates the parts, so ('ab', 'c') and ('a', 'bc') differ.
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 16);
}

/** `<namespace>.<name>` of the ConnectedSystem, cut and suffixed with a hash when it is too long for a label value. */
export function systemLabelValue(namespace: string, name: string): string {
  const value = `${namespace}.${name}`;
  if (value.length <= LABEL_VALUE_MAX) return value;
  return `${value.slice(0, LABEL_VALUE_MAX - 17)}-${shortHash(namespace, name)}`;
}

export function userKey(system: string, userName: string): string {
  return shortHash(system, userName);
}

/**
 * `rollcall-<readable part of userName>-<hash>`. The hash covers the system, the exact userName and
 * the entitlement, so users whose names read alike ('Alice', 'alice') or two systems granting the
 * same ClusterRole never collide.
 */
export function bindingName(system: string, userName: string, entitlement: string): string {
  const readable = userName
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 37) // rollcall- + 37 + - + 16 = 63: short enough to read in `kubectl get`
    .replace(/-+$/, '');
  return `rollcall-${readable || 'user'}-${shortHash(system, userName, entitlement)}`;
}

/** Selects every binding of one ConnectedSystem, or of one user in it. */
export function managedSelector(systemLabel: string, key?: string): string {
  const base = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE},${SYSTEM_LABEL}=${systemLabel}`;
  return key === undefined ? base : `${base},${USER_KEY_LABEL}=${key}`;
}
