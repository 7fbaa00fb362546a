// What the server supports, read once per connection from its discovery endpoints (RFC 7644 §4):
// /ServiceProviderConfig (PATCH, filtering and its largest page, ETags), /ResourceTypes (the
// enterprise extension on User) and /Schemas (whether Group displayName is caseExact, whether
// externalId may be written). Each can be overridden by spec.scim.compatibility, for the many servers
// whose declarations are wrong or that cannot say what they lack (RFC 7644 has no way to declare
// which filter operators a server supports).
import type { ConnectedSystemSpec } from '../../api/index.ts';
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA, type ListResponse } from './schema.ts';
import type { ScimHttp } from './http.ts';

export type Compatibility = NonNullable<NonNullable<ConnectedSystemSpec['scim']>['compatibility']>;
export type FilterOperator = NonNullable<Compatibility['filterOperators']>[number];
export const FILTER_OPERATORS: readonly FilterOperator[] = ['eq', 'ne', 'co', 'sw', 'ew', 'pr', 'gt', 'ge', 'lt', 'le'];

export interface ServerFeatures {
  enterpriseUser: boolean;
  /** Writes with PATCH; else GET + PUT of the whole resource. */
  patch: boolean;
  /** Filter operators to use; none when the server does not filter at all. */
  filterOperators: ReadonlySet<FilterOperator>;
  /** PATCH paths with a value filter (`members[value eq "..."]`). */
  filteredPaths: boolean;
  /** Resources carry versions and a write with a stale If-Match is refused (412). */
  etags: boolean;
  /** The largest page the server returns, when it says. */
  pageSize?: number;
  /** externalId (where Rollcall keeps its marker) can be written. */
  externalIdWritable: boolean;
  /** Group displayName is caseExact: `Engineering` and `engineering` are two groups. */
  groupNamesCaseExact: boolean;
}

interface SchemaAttribute {
  name?: string;
  caseExact?: boolean;
  mutability?: string;
}

interface Schema {
  id?: string;
  attributes?: SchemaAttribute[];
}

interface ResourceType {
  name?: string;
  schemaExtensions?: { schema?: string }[];
}

interface ProviderConfig {
  patch?: { supported?: boolean };
  filter?: { supported?: boolean; maxResults?: number };
  etag?: { supported?: boolean };
}

export async function discoverFeatures(http: ScimHttp, signal: AbortSignal, compatibility: Compatibility = {}): Promise<ServerFeatures> {
  // 404: the server has no discovery endpoints; assume the bare core schema and what RFC 7644 requires (PATCH, filters).
  const config = await http.send({ method: 'GET', path: ['ServiceProviderConfig'], what: 'read ServiceProviderConfig' }, signal, [404]);
  const types = await http.send({ method: 'GET', path: ['ResourceTypes'], what: 'read ResourceTypes' }, signal, [404]);
  const schemas = await http.send({ method: 'GET', path: ['Schemas'], what: 'read Schemas' }, signal, [400, 404, 501]);
  const declared = config.status === 404 ? {} : ((config.body ?? {}) as ProviderConfig);
  const typeList = listOf<ResourceType>(types.body);
  const schemaList = schemas.status >= 300 ? [] : listOf<Schema>(schemas.body);
  const attribute = (schema: string, name: string) =>
    schemaList.find((s) => s.id === schema)?.attributes?.find((a) => a.name?.toLowerCase() === name.toLowerCase());
  const patch = compatibility.patch ?? declared.patch?.supported !== false;
  const maxResults = declared.filter?.maxResults;
  const pageSize = compatibility.pageSize ?? (Number.isInteger(maxResults) && maxResults! > 0 ? maxResults : undefined);
  const externalIdMutability = attribute(USER_SCHEMA, 'externalId')?.mutability;
  return {
    enterpriseUser: typeList.find((type) => type.name === 'User')?.schemaExtensions?.some((extension) => extension.schema === ENTERPRISE_USER_SCHEMA) ?? false,
    patch,
    filterOperators: new Set(compatibility.filterOperators ?? (declared.filter?.supported === false ? [] : FILTER_OPERATORS)),
    // A server with PATCH supports its filtered paths (RFC 7644 §3.5.2); many apps do not.
    filteredPaths: patch && (compatibility.filteredPaths ?? true),
    etags: compatibility.etags ?? declared.etag?.supported === true,
    ...(pageSize !== undefined && { pageSize }),
    externalIdWritable: compatibility.externalIdWritable ?? (externalIdMutability !== 'readOnly' && externalIdMutability !== 'immutable'),
    // RFC 7643 §2.2: caseExact defaults to false, and §4.2 gives Group displayName none: without a schema to say otherwise, false.
    groupNamesCaseExact: attribute(GROUP_SCHEMA, 'displayName')?.caseExact === true,
  };
}

function listOf<T>(body: unknown): T[] {
  const list = body as ListResponse<T> | T[] | undefined;
  return Array.isArray(list) ? list : (list?.Resources ?? []);
}
