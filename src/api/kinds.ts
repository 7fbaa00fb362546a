// The six kinds with everything the CRDs, the stores and the CLI need to know about each.
import type { z } from 'zod';
import { accessBindingResource, accessBindingSpec, accessBindingStatus } from './access-binding.ts';
import { accessRoleResource, accessRoleSpec, accessRoleStatus } from './access-role.ts';
import { accessReviewResource, accessReviewSpec, accessReviewStatus } from './access-review.ts';
import { connectedSystemResource, connectedSystemSpec, connectedSystemStatus } from './connected-system.ts';
import { identitySourceResource, identitySourceSpec, identitySourceStatus } from './identity-source.ts';
import { userResource, userSpec, userStatus } from './user.ts';

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'date' | 'boolean';
  jsonPath: string;
  description?: string;
  priority?: number;
}

export interface KindInfo {
  kind: KindName;
  plural: string;
  singular: string;
  shortNames: string[];
  description: string;
  spec: z.ZodType;
  status: z.ZodType;
  resource: z.ZodType;
  printerColumns: PrinterColumn[];
}

const readyColumn: PrinterColumn = { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' };
const ageColumn: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };
/**
 * A moment that may lie ahead (an access end, a grant's end). kubectl renders a `date` column as the
 * age since then, which is `<invalid>` for every future date, so it is shown as written instead.
 */
const instantColumn = (name: string, jsonPath: string, priority?: number): PrinterColumn => ({
  name,
  type: 'string',
  jsonPath,
  ...(priority === undefined ? {} : { priority }),
});

export const KINDS = {
  ConnectedSystem: {
    kind: 'ConnectedSystem',
    plural: 'connectedsystems',
    singular: 'connectedsystem',
    shortNames: ['csys'],
    description: 'A target system (LDAP, PostgreSQL, SCIM, Kubernetes RBAC, embedded sqlite) where Rollcall keeps accounts.',
    spec: connectedSystemSpec,
    status: connectedSystemStatus,
    resource: connectedSystemResource,
    printerColumns: [
      { name: 'Type', type: 'string', jsonPath: '.spec.type' },
      { name: 'Connected', type: 'string', jsonPath: '.status.conditions[?(@.type=="Connected")].status' },
      readyColumn,
      { name: 'Managed', type: 'integer', jsonPath: '.status.managed' },
      { name: 'Orphans', type: 'integer', jsonPath: '.status.orphaned' },
      { name: 'Retained', type: 'integer', jsonPath: '.status.retained', priority: 1 },
      ageColumn,
    ],
  },
  User: {
    kind: 'User',
    plural: 'users',
    singular: 'user',
    shortNames: ['usr'],
    description: 'A person or service identity whose accounts Rollcall keeps in every connected system.',
    spec: userSpec,
    status: userStatus,
    resource: userResource,
    printerColumns: [
      { name: 'UserName', type: 'string', jsonPath: '.spec.userName', priority: 1 },
      // In effect (expired, pending, deleting included), not only as declared; the declared state in -o wide.
      { name: 'State', type: 'string', jsonPath: '.status.state' },
      { name: 'Declared', type: 'string', jsonPath: '.spec.state', priority: 1 },
      readyColumn,
      { name: 'Systems', type: 'string', jsonPath: '.status.systems' },
      instantColumn('Access-Ends', '.status.accessEndsAt', 1),
      instantColumn('Retained-Until', '.status.retainedUntil', 1),
      ageColumn,
    ],
  },
  AccessRole: {
    kind: 'AccessRole',
    plural: 'accessroles',
    singular: 'accessrole',
    shortNames: ['arole'],
    description: 'A business role: the entitlements it grants in each connected system.',
    spec: accessRoleSpec,
    status: accessRoleStatus,
    resource: accessRoleResource,
    printerColumns: [
      { name: 'Approval', type: 'boolean', jsonPath: '.spec.requiresApproval' },
      { name: 'Max-Duration', type: 'string', jsonPath: '.spec.maxDuration' },
      ageColumn,
    ],
  },
  AccessBinding: {
    kind: 'AccessBinding',
    plural: 'accessbindings',
    singular: 'accessbinding',
    shortNames: ['abind'],
    description: 'Grants one AccessRole to Users, optionally for a limited time.',
    spec: accessBindingSpec,
    status: accessBindingStatus,
    resource: accessBindingResource,
    printerColumns: [
      { name: 'Role', type: 'string', jsonPath: '.spec.role' },
      { name: 'Subjects', type: 'integer', jsonPath: '.status.subjects' },
      instantColumn('Until', '.spec.validUntil'),
      readyColumn,
      ageColumn,
    ],
  },
  IdentitySource: {
    kind: 'IdentitySource',
    plural: 'identitysources',
    singular: 'identitysource',
    shortNames: ['idsrc'],
    description: 'An authoritative HR feed that creates, updates and terminates Users.',
    spec: identitySourceSpec,
    status: identitySourceStatus,
    resource: identitySourceResource,
    printerColumns: [
      { name: 'Type', type: 'string', jsonPath: '.spec.type' },
      { name: 'Users', type: 'integer', jsonPath: '.status.users' },
      { name: 'Rejected', type: 'integer', jsonPath: '.status.rejected' },
      { name: 'Guard', type: 'string', jsonPath: '.status.conditions[?(@.type=="ChangeGuardTripped")].status' },
      readyColumn,
      { name: 'Last-Sync', type: 'date', jsonPath: '.status.lastSyncTime' },
      ageColumn,
    ],
  },
  AccessReview: {
    kind: 'AccessReview',
    plural: 'accessreviews',
    singular: 'accessreview',
    shortNames: ['arev'],
    description: 'An access-review campaign: reviewers keep or revoke the access in scope by a due date.',
    spec: accessReviewSpec,
    status: accessReviewStatus,
    resource: accessReviewResource,
    printerColumns: [
      { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
      { name: 'Due', type: 'string', jsonPath: '.spec.dueDate' },
      { name: 'Default', type: 'string', jsonPath: '.spec.defaultDecision' },
      ageColumn,
    ],
  },
} satisfies Record<string, KindInfo>;

export type KindName = 'ConnectedSystem' | 'User' | 'AccessRole' | 'AccessBinding' | 'IdentitySource' | 'AccessReview';
export const KIND_NAMES = Object.keys(KINDS) as KindName[];
