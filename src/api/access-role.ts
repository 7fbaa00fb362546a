import { z } from 'zod';
import { baseStatus, duration, objectName, resource } from './common.ts';

export const accessRoleSpec = z
  .object({
    description: z.string().max(1024).optional().describe('What this business role is for.'),
    grants: z
      .array(
        z.object({
          system: objectName('Name of a ConnectedSystem in the same namespace.'),
          entitlements: z
            .array(z.string().min(1).max(512))
            .default([])
            .describe(
              'Entitlements in that system: LDAP group cn, PostgreSQL group role, SCIM group displayName, or for kubernetes ClusterRole/NAME, ClusterRole/NAME@NAMESPACE or Role/NAME@NAMESPACE. An empty list still gives an account.',
            ),
        }),
      )
      .default([])
      .describe('For each ConnectedSystem, the entitlements this role grants.'),
    includes: z.array(objectName('Name of another AccessRole.')).optional().describe('Other AccessRoles whose grants this one includes.'),
    requiresApproval: z.boolean().default(false).describe('Bindings to this role grant nothing until spec.approval is filled in.'),
    conflictsWith: z
      .array(objectName('Name of another AccessRole.'))
      .optional()
      .describe('Separation of duties: AccessRoles a User must not hold together with this one. The audit reports a User bound to both.'),
    maxDuration: duration('Longest time a binding may grant this role; longer bindings are capped.').optional(),
  })
  .describe('A business role: the access it gives in each connected system.');

export const accessRoleStatus = z.object({ ...baseStatus });
export const accessRoleResource = resource('AccessRole', accessRoleSpec, accessRoleStatus);
export type AccessRole = z.infer<typeof accessRoleResource>;
