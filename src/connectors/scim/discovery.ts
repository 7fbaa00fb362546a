// What the server supports, from its discovery endpoints (RFC 7644 §4): whether its User type has
// the enterprise extension, and whether it accepts PATCH (else Rollcall writes with PUT).
import { ENTERPRISE_USER_SCHEMA, type ListResponse } from './schema.ts';
import type { ScimHttp } from './http.ts';

export interface ServerFeatures {
  enterpriseUser: boolean;
  patch: boolean;
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
  return { enterpriseUser, patch };
}
