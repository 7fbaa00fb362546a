// The rules the API server enforces with CEL (`x-kubernetes-validations` in src/api) that a zod
// parse alone does not check. The in-memory store must refuse what `kubectl apply` would refuse,
// with the same messages, so a manifest that works with `rollcall run --manifests` works in a cluster.
import type { AccessBinding, ConnectedSystem, IdentitySource, KindName, User } from '../api/index.ts';
import type { AnyResource } from '../store/store.ts';

export interface RuleViolation {
  field: string;
  message: string;
}

export function ruleViolations(kind: KindName, object: AnyResource): RuleViolation[] {
  switch (kind) {
    case 'User':
      return validityWindow((object as User).spec);
    case 'AccessBinding':
      return accessBindingRules(object as AccessBinding);
    case 'ConnectedSystem':
      return connectedSystemRules(object as ConnectedSystem);
    case 'IdentitySource':
      return identitySourceRules(object as IdentitySource);
    default:
      return [];
  }
}

/** Transition rules (`self == oldSelf`): checked when an object already stored changes. */
export function transitionViolations(kind: KindName, before: AnyResource, after: AnyResource): RuleViolation[] {
  if (kind === 'User' && (before as User).spec.userName !== (after as User).spec.userName) {
    return [{ field: 'spec.userName', message: 'userName is immutable' }];
  }
  if (kind === 'ConnectedSystem' && (before as ConnectedSystem).spec.type !== (after as ConnectedSystem).spec.type) {
    return [{ field: 'spec', message: 'type is immutable' }];
  }
  return [];
}

function validityWindow(spec: { validFrom?: string; validUntil?: string }): RuleViolation[] {
  if (spec.validFrom === undefined || spec.validUntil === undefined) return [];
  if (Date.parse(spec.validFrom) < Date.parse(spec.validUntil)) return [];
  return [{ field: 'spec.validUntil', message: 'validFrom must be before validUntil' }];
}

function accessBindingRules(binding: AccessBinding): RuleViolation[] {
  const violations: RuleViolation[] = [];
  if (binding.spec.users === undefined && binding.spec.userSelector === undefined) {
    violations.push({ field: 'spec', message: 'users or userSelector is required' });
  }
  return [...violations, ...validityWindow(binding.spec)];
}

const SETTINGS_REQUIRED = ['ldap', 'postgres', 'scim', 'sqlite'] as const;

function connectedSystemRules(system: ConnectedSystem): RuleViolation[] {
  const { spec } = system;
  const violations: RuleViolation[] = [];
  for (const type of SETTINGS_REQUIRED) {
    if (spec.type === type && spec[type] === undefined) {
      violations.push({ field: `spec.${type}`, message: `${type} settings are required when type is ${type}` });
    }
  }
  if (spec.postgres?.onDelete === 'reassign' && spec.postgres.reassignTo === undefined) {
    violations.push({ field: 'spec.postgres.reassignTo', message: 'reassignTo is required when onDelete is reassign' });
  }
  if (spec.deprovision.policy === 'disableThenDelete' && spec.deprovision.retention === undefined) {
    violations.push({ field: 'spec.deprovision.retention', message: 'retention is required for disableThenDelete' });
  }
  return violations;
}

function identitySourceRules(source: IdentitySource): RuleViolation[] {
  const { spec } = source;
  const violations: RuleViolation[] = [];
  if (spec.type === 'configMap' && spec.configMapRef === undefined) {
    violations.push({ field: 'spec.configMapRef', message: 'configMapRef is required when type is configMap' });
  }
  if (spec.type === 'http' && spec.url === undefined) {
    violations.push({ field: 'spec.url', message: 'url is required when type is http' });
  }
  return violations;
}
