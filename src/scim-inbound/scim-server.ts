// Inbound SCIM 2.0: Rollcall as a service provider for Users, so an HR system or IdP pushes joiners,
// movers and leavers instead of Rollcall reading a feed. One port for every IdentitySource of type
// scim: the bearer token says which (each source's token is the key token of its credentials
// Secret). SCIMMY parses filters and PATCH operations; DELETE terminates, never deletes, and a
// terminated User created again by POST is the same User, reactivated.
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Logger } from 'pino';
import SCIMMY from 'scimmy';
import SCIMMYRouters from 'scimmy-routers';
import type { IdentitySource, User } from '../api/index.ts';
import { MANAGED_BY_LABEL, SOURCE_LABEL, sourceOwnership } from '../sources/plan.ts';
import {
  GROUPS_ANNOTATION,
  GROUP_EXTERNAL_IDS_ANNOTATION,
  GROUP_LABEL_PREFIX,
  groupExternalIdsOf,
  SCIM_VALUES_ANNOTATION,
  ScimValueError,
  groupId,
  groupsAnnotation,
  groupsOf,
  scimPatch,
  scimToFields,
  scimUserName,
  scimValues,
  scimValuesOf,
  userNameToObjectName,
  userToScim,
  type ScimUser,
} from '../sources/scim.ts';
import { AlreadyExistsError, keyOf, type Store } from '../store/store.ts';
import { systemClock, type Clock } from '../clock/clock.ts';
import { declareKeptSchemas, matchFilter, undeclaredAttributes, undeclaredInPatch } from './scim-schema.ts';
import { ScimTokenIndex } from './scim-tokens.ts';

export interface ScimServerOptions {
  store: Store;
  logger: Logger;
  port: number;
  host?: string;
  /** PEM certificate and key: HTTPS. Without them, plain HTTP (behind a TLS-terminating proxy). */
  tls?: { cert: string; key: string };
  /** When the token index is swept again (default: real time). */
  clock?: Clock;
}

export interface ScimServer {
  port: number;
  close(): Promise<void>;
}

type Ctx = { source: IdentitySource };

export async function startScimServer(options: ScimServerOptions): Promise<ScimServer> {
  const { store, logger } = options;
  const log = logger.child({ component: 'scim' });
  const authenticated = new WeakMap<object, IdentitySource>();

  // O(1) Secret reads per request, whatever the number of scim sources (scim-tokens.ts).
  const tokens = new ScimTokenIndex(store, log, options.clock ?? systemClock);
  tokens.start();
  const sourceFor = (token: string) => tokens.sourceFor(token);

  const ours = (source: IdentitySource): User[] =>
    store
      .list('User', keyOf(source).namespace)
      .filter((u) => u.metadata.labels?.[SOURCE_LABEL] === source.metadata.name && u.metadata.deletionTimestamp === undefined);
  const find = (source: IdentitySource, id: string) => ours(source).find((u) => u.metadata.name === id);
  const notFound = (id: string) => scimError(404, undefined, `Resource ${id} not found`);

  declareKeptSchemas();
  if (!SCIMMY.Resources.declared(SCIMMY.Resources.User)) SCIMMY.Resources.declare(SCIMMY.Resources.User);
  const egress = async (resource: { id?: string; filter?: Filter }, ctx: Ctx) => {
    // A terminated User is gone as far as SCIM is concerned (RFC 7644 3.6): it answers 404.
    const live = ours(ctx.source).filter((u) => u.spec.state !== 'terminated');
    if (resource.id !== undefined) {
      const user = live.find((u) => u.metadata.name === resource.id);
      if (!user) throw notFound(resource.id);
      return userToScim(user);
    }
    const all = live.map(userToScim);
    return resource.filter ? matchFilter(SCIMMY.Schemas.User.definition, resource.filter, all) : all;
  };
  // SCIMMY's handler types describe its own schema classes; ours return plain SCIM objects.
  SCIMMY.Resources.User.egress(egress as never);
  const ingress = async (resource: { id?: string }, instance: ScimUser, ctx: Ctx) => {
    const { source } = ctx;
    const { namespace } = keyOf(source);
    let fields;
    try {
      fields = scimToFields(instance);
    } catch (error) {
      if (error instanceof ScimValueError) throw scimError(400, 'invalidValue', error.message);
      throw error;
    }
    // The SCIM userName as sent is kept apart from spec.userName (Rollcall's login name, the
    // local part lowercased), so a filter on the sent value finds the User; userName is caseExact:
    // false (RFC 7643 4.1.1), so a change of case alone is the same name.
    const values = scimValues(instance);
    const name = resource.id ?? userNameToObjectName(fields.userName);
    const current = store.get('User', { namespace, name });
    const sameUserName = (user: User) => scimUserName(user).toLowerCase() === values.userName!.toLowerCase();
    if (resource.id !== undefined) {
      if (!current || current.metadata.labels?.[SOURCE_LABEL] !== source.metadata.name || current.spec.state === 'terminated') throw notFound(resource.id);
      if (!sameUserName(current)) throw scimError(400, 'mutability', `userName is immutable: this User is "${scimUserName(current)}"`);
      values.userName = scimUserName(current);
    } else if (current) {
      if (current.metadata.labels?.[SOURCE_LABEL] !== source.metadata.name)
        throw scimError(409, 'uniqueness', `User ${name} exists and does not belong to this source`);
      // A leaver comes back under the userName it had; another name that maps to the same login
      // name is someone else, who must not take over the leaver's User. (A User kept from before
      // the sent userName was recorded has none to compare: it is rehired as before.)
      const recorded = scimValuesOf(current).userName !== undefined;
      if (current.spec.state !== 'terminated' || (recorded && !sameUserName(current))) {
        const taken = sameUserName(current)
          ? `userName ${values.userName} already exists`
          : `userName ${values.userName} needs the login name ${fields.userName}, which "${scimUserName(current)}" has`;
        throw scimError(409, 'uniqueness', taken);
      }
    }
    const annotation = JSON.stringify(values);
    if (current) {
      // PUT, or POST of a leaver coming back (a rehire: the same User, reactivated).
      const patch = scimPatch(current, fields);
      let stored = Object.keys(patch).length ? await store.patchUser({ namespace, name }, { spec: patch }) : current;
      if (!stored) throw notFound(name);
      if (stored.metadata.annotations?.[SCIM_VALUES_ANNOTATION] !== annotation) {
        await store.setAnnotations('User', { namespace, name }, { [SCIM_VALUES_ANNOTATION]: annotation });
        stored = { ...stored, metadata: { ...stored.metadata, annotations: { ...stored.metadata.annotations, [SCIM_VALUES_ANNOTATION]: annotation } } };
      }
      log.info(
        { source: source.metadata.name, user: name, fields: Object.keys(patch) },
        resource.id === undefined ? 'rehired User (SCIM)' : 'updated User (SCIM)',
      );
      return userToScim(stored);
    }
    const spec = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as unknown as User['spec'];
    try {
      const created = await store.createUser({
        apiVersion: source.apiVersion,
        kind: 'User',
        metadata: {
          name,
          namespace,
          labels: { [SOURCE_LABEL]: source.metadata.name, [MANAGED_BY_LABEL]: 'rollcall' },
          annotations: { [SCIM_VALUES_ANNOTATION]: annotation },
          ...sourceOwnership(source),
        },
        spec,
      } as User);
      log.info({ source: source.metadata.name, user: name }, 'created User (SCIM)');
      return userToScim(created);
    } catch (error) {
      if (error instanceof AlreadyExistsError) throw scimError(409, 'uniqueness', `userName ${fields.userName} already exists`);
      throw scimError(400, 'invalidValue', error instanceof Error ? error.message : String(error));
    }
  };
  SCIMMY.Resources.User.ingress(ingress as never);
  const degress = async (resource: { id?: string }, ctx: Ctx) => {
    const user = find(ctx.source, resource.id!);
    if (!user || user.spec.state === 'terminated') throw notFound(resource.id!);
    // Never a hard delete: the User is terminated, so every system deprovisions it by its policy.
    await store.patchUser(keyOf(user), { spec: { state: 'terminated' } });
    log.info({ source: ctx.source.metadata.name, user: user.metadata.name }, 'terminated User (SCIM DELETE)');
  };
  SCIMMY.Resources.User.degress(degress as never);

  // Groups as labels on their members; the list of groups lives on the source (GROUPS_ANNOTATION).
  const groupsNow = (source: IdentitySource) => groupsOf(store.get('IdentitySource', keyOf(source))?.metadata.annotations);
  const externalIdsNow = (source: IdentitySource) => groupExternalIdsOf(store.get('IdentitySource', keyOf(source))?.metadata.annotations);
  const toScimGroup = (source: IdentitySource, id: string, displayName: string, externalId = externalIdsNow(source).get(id)) => ({
    id,
    ...(externalId !== undefined && { externalId }),
    displayName,
    members: ours(source)
      .filter((u) => u.spec.state !== 'terminated' && u.metadata.labels?.[GROUP_LABEL_PREFIX + id] === 'true')
      .map((u) => ({ value: u.metadata.name, $ref: memberRef(u.metadata.name), type: 'User' })),
  });
  const groupEgress = async (resource: { id?: string; filter?: Filter }, ctx: Ctx) => {
    const groups = groupsNow(ctx.source);
    if (resource.id !== undefined) {
      const displayName = groups.get(resource.id);
      if (displayName === undefined) throw notFound(resource.id);
      return toScimGroup(ctx.source, resource.id, displayName);
    }
    const all = [...groups].map(([id, name]) => toScimGroup(ctx.source, id, name));
    return resource.filter ? matchFilter(SCIMMY.Schemas.Group.definition, resource.filter, all) : all;
  };
  const setMembers = async (source: IdentitySource, id: string, members: Set<string>) => {
    const label = GROUP_LABEL_PREFIX + id;
    for (const user of ours(source)) {
      const member = members.has(user.metadata.name);
      if (member !== (user.metadata.labels?.[label] === 'true')) await store.patchUser(keyOf(user), { labels: { [label]: member ? 'true' : null } });
    }
  };
  // Where a member User is, as SCIMMY gives each resource's meta.location.
  const memberRef = (id: string) => `${SCIMMY.Resources.User.basepath()}/${id}`;
  const groupIngress = async (
    resource: { id?: string },
    instance: { externalId?: string; displayName?: string; members?: Array<{ value?: string; $ref?: string }> },
    ctx: Ctx,
  ) => {
    const { source } = ctx;
    const groups = groupsNow(source);
    let id: string;
    try {
      if (!instance.displayName) throw new ScimValueError('displayName is required');
      id = resource.id ?? groupId(instance.displayName);
    } catch (error) {
      if (error instanceof ScimValueError) throw scimError(400, 'invalidValue', error.message);
      throw error;
    }
    if (resource.id !== undefined && !groups.has(id)) throw notFound(id);
    if (resource.id === undefined && groups.has(id)) throw scimError(409, 'uniqueness', `group ${instance.displayName} already exists`);
    // $ref says the same as value, or the request contradicts itself: which member was meant?
    const astray = (instance.members ?? []).filter((m) => m.$ref !== undefined && !m.$ref.endsWith(`/Users/${m.value}`));
    if (astray.length)
      throw scimError(400, 'invalidValue', `members.$ref ${astray.map((m) => m.$ref).join(', ')}: not the location of the User the member's value names`);
    const members = new Set((instance.members ?? []).map((m) => m.value ?? ''));
    const unknown = [...members].filter((m) => !ours(source).some((u) => u.metadata.name === m));
    if (unknown.length) throw scimError(400, 'invalidValue', `members ${unknown.join(', ')} are not Users of this source`);
    const externalIds = externalIdsNow(source);
    if (instance.externalId) externalIds.set(id, instance.externalId);
    else externalIds.delete(id);
    await store.setAnnotations('IdentitySource', keyOf(source), {
      [GROUPS_ANNOTATION]: groupsAnnotation(new Map(groups).set(id, instance.displayName)),
      [GROUP_EXTERNAL_IDS_ANNOTATION]: groupsAnnotation(externalIds),
    });
    await setMembers(source, id, members);
    log.info({ source: source.metadata.name, group: id, members: members.size }, 'group written (SCIM)');
    // From what was written, not read back: the store's cache may not hold the new labels yet.
    return {
      id,
      ...(instance.externalId && { externalId: instance.externalId }),
      displayName: instance.displayName,
      members: [...members].map((value) => ({ value, $ref: memberRef(value), type: 'User' })),
    };
  };
  const groupDegress = async (resource: { id?: string }, ctx: Ctx) => {
    const groups = groupsNow(ctx.source);
    if (!groups.has(resource.id!)) throw notFound(resource.id!);
    await setMembers(ctx.source, resource.id!, new Set());
    const rest = new Map(groups);
    rest.delete(resource.id!);
    const externalIds = externalIdsNow(ctx.source);
    externalIds.delete(resource.id!);
    await store.setAnnotations('IdentitySource', keyOf(ctx.source), {
      [GROUPS_ANNOTATION]: groupsAnnotation(rest),
      [GROUP_EXTERNAL_IDS_ANNOTATION]: groupsAnnotation(externalIds),
    });
  };
  if (!SCIMMY.Resources.declared(SCIMMY.Resources.Group)) SCIMMY.Resources.declare(SCIMMY.Resources.Group);
  SCIMMY.Resources.Group.egress(groupEgress as never);
  SCIMMY.Resources.Group.ingress(groupIngress as never);
  SCIMMY.Resources.Group.degress(groupDegress as never);

  const routers = new SCIMMYRouters({
    type: 'bearer',
    // authenticate() below has run: it alone answers 401, with the header RFC 6750 asks for.
    handler: (req) => authenticated.get(req)!.metadata.name,
    context: (req) => ({ source: authenticated.get(req)! }) satisfies Ctx,
  }) as unknown as express.Router;
  // SCIMMYRouters turns /Bulk on. Off: a bulk request is up to 1000 operations in one request, work
  // no other tenant's request could get ahead of, and no client of ours needs it (RFC 7644 3.7: an
  // unsupported /Bulk answers 501; /ServiceProviderConfig says bulk.supported false). No ETags
  // either: nothing here compares a version, so none is sent (Express's own weak ETag included) and
  // /ServiceProviderConfig says etag.supported false, so no client sends an If-Match it expects honoured.
  SCIMMY.Config.set({ bulk: false, etag: false });
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const authenticate: express.RequestHandler = async (req, res, next) => {
    // RFC 7235 2.1: the scheme name is case-insensitive ("bearer" is "Bearer").
    const presented = /^bearer +(\S+) *$/i.exec(req.header('authorization') ?? '')?.[1];
    const source = presented ? await sourceFor(presented) : undefined;
    if (!source) {
      // RFC 6750 3: the challenge names the realm, and says when a token was sent and is not valid.
      res.set('WWW-Authenticate', `Bearer realm="${REALM}"${presented ? ', error="invalid_token"' : ''}`);
      return sendScimError(res, 401, undefined, 'a bearer token of an IdentitySource of type scim is required');
    }
    authenticated.set(req, source);
    next();
  };
  app.use(
    '/scim/v2',
    stableQuery,
    authenticate,
    readOnlyDiscovery,
    express.json({ type: ['application/scim+json', 'application/json'], limit: '1mb' }),
    refuseUndeclared,
    routers,
  );
  const server: Server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, app) : createHttpServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ port, tls: !!options.tls }, 'serving inbound SCIM at /scim/v2');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        tokens.stop();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function scimError(status: number, scimType: string | undefined, message: string): Error {
  return new SCIMMY.Types.Error(status, scimType as string, message);
}

type Filter = InstanceType<typeof SCIMMY.Types.Filter>;
const REALM = 'rollcall-scim';

/** An error answered before SCIMMY's routers, in RFC 7644 3.12's form (SCIMMY's own refuses a 405). */
function sendScimError(res: express.Response, status: number, scimType: string | undefined, detail: string): void {
  const body = { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: String(status), ...(scimType !== undefined && { scimType }), detail };
  res.status(status).type('application/scim+json').send(JSON.stringify(body));
}

/**
 * Express 5 makes req.query a getter that parses the URL again on every read, so SCIMMYRouters'
 * conversion of startIndex and count to numbers was written to a copy no one read again, and GET
 * paging was ignored (POST /.search, whose values come from the body, paged). Parsed once into a
 * plain property, as under Express 4 which SCIMMYRouters was written for, every conversion sticks:
 * the cause is fixed, not each parameter.
 */
const stableQuery: express.RequestHandler = (req, _res, next) => {
  Object.defineProperty(req, 'query', { value: { ...req.query }, writable: true, enumerable: true, configurable: true });
  next();
};

/** RFC 7644 4: the discovery endpoints are read-only; a write is 405 with Allow (not SCIMMYRouters' 404). */
const readOnlyDiscovery: express.RequestHandler = (req, res, next) => {
  if (!/^\/(Schemas|ResourceTypes|ServiceProviderConfig)(\/|$)/.test(req.path) || req.method === 'GET' || req.method === 'HEAD') return next();
  res.set('Allow', 'GET');
  sendScimError(res, 405, undefined, `${req.method} is not allowed on ${req.path}: discovery endpoints are read-only`);
};

/**
 * An attribute /Schemas does not declare is refused (SCIMMY would drop it and answer 201/200, and
 * the client believe it kept), in a POST or PUT body and in a PATCH operation's value (a PATCH
 * path the schema lacks SCIMMY refuses itself, with invalidPath).
 */
const refuseUndeclared: express.RequestHandler = (req, res, next) => {
  const resource = /^\/(Users|Groups)(\/[^/.][^/]*)?$/.exec(req.path)?.[1];
  if (resource === undefined || !['POST', 'PUT', 'PATCH'].includes(req.method)) return next();
  const definition = resource === 'Users' ? SCIMMY.Schemas.User.definition : SCIMMY.Schemas.Group.definition;
  const undeclared = req.method === 'PATCH' ? undeclaredInPatch(definition, req.body) : undeclaredAttributes(definition, req.body);
  if (undeclared.length === 0) return next();
  sendScimError(
    res,
    400,
    'invalidValue',
    `${undeclared.join(', ')}: not kept by Rollcall (GET /Schemas lists what is); send the ${resource === 'Users' ? 'User' : 'Group'} without ${undeclared.length > 1 ? 'them' : 'it'}`,
  );
};
