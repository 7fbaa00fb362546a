// What the server supports, from its discovery endpoints (RFC 7644 §4): whether its User type has
// the enterprise extension, whether it accepts PATCH (else Rollcall writes with PUT), and whether it
// compares group names with case (the Group schema's displayName caseExact).
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, type ListResponse } from './schema.ts';
import type { ScimHttp } from './http.ts';

export interface ServerFeatures {
  enterpriseUser: boolean;
  patch: boolean;
  /** Group displayName is caseExact: `Engineering` and `engineering` are two groups. */
  groupNamesCaseExact: boolean;
}

interface SchemaAttribute {
  name?: string;
  caseExact?: boolean;
}

interface ResourceType {
  name?: string;
  schemaExtensions?: { schema?: string }[];
}

export async function discoverFeatures(http: ScimHttp, signal: AbortSignal): Promise<ServerFeatures> {
  // 404: the server has no discovery endpoints; assume the bare core schema and PATCH (RFC 7644 §3.5.2).
  const config = await http.send({ method: 'GET', path: ['ServiceProviderConfig'], what: 'read ServiceProviderConfig' }, signal, [404]);
  const types = await http.send({ method: 'GET', path: ['ResourceTypes'], what: 'read ResourceTypes' }, signal, [404]);
  const patch = config.status === 404 ? true : (config.body as { patch?: { supported?: boolean } })?.patch?.supported !== false;
  const body = types.body as ListResponse<ResourceType> | ResourceType[] | undefined;
  const list = Array.isArray(body) ? body : (body?.Resources ?? []);
  const user = list.find((type) => type.name === 'User');
  const enterpriseUser = user?.schemaExtensions?.some((extension) => extension.schema === ENTERPRISE_USER_SCHEMA) ?? false;
  return { enterpriseUser, patch, groupNamesCaseExact: await groupNamesCaseExact(http, signal) };
}

/** RFC 7643 §2.2: caseExact defaults to false, and §4.2 gives Group displayName none: without a schema to say otherwise, false. */
async function groupNamesCaseExact(http: ScimHttp, signal: AbortSignal): Promise<boolean> {
  const schema = await http.send({ method: 'GET', path: ['Schemas', GROUP_SCHEMA], what: 'read the Group schema' }, signal, [400, 404, 501]);
  if (schema.status >= 300) return false;
  const attributes = (schema.body as { attributes?: SchemaAttribute[] } | undefined)?.attributes ?? [];
  return attributes.find((attribute) => attribute.name?.toLowerCase() === 'displayname')?.caseExact === true;
}
