// A deliberately restricted SCIM 2.0 service provider for the outbound connector's tests, built on
// SCIMMY (npm `scimmy` + `scimmy-routers`: the protocol, schemas, filters and list responses) behind
// Express. It behaves like the many SaaS apps that implement only part of RFC 7644:
// - no PATCH (ServiceProviderConfig says so, and a PATCH answers 501);
// - filters with `eq` on a plain attribute only: any other operator, `members.value`, or a
//   filtered path answers 400 invalidFilter;
// - pages of 2 whatever `count` asks, and list responses without `startIndex` / `itemsPerPage`;
// - no ETags (SCIMMY has none).
// Its own process (so a test can freeze it with SIGSTOP), its resources in a JSON file (so a restart
// keeps them). For tests only, under /_test: the log of requests received, and hooks that change the
// store just before a matching request is answered (a concurrent hand change, a delete racing a
// listing) or that silently drop a written attribute (a server that answers 200 and keeps nothing).
//
// Usage: node scim-restricted-server.ts --port PORT --token TOKEN --state FILE
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import express, { type NextFunction, type Request, type Response } from 'express';
import SCIMMY from 'scimmy';
import SCIMMYRouters from 'scimmy-routers';

const { values: args } = parseArgs({ options: { port: { type: 'string' }, token: { type: 'string' }, state: { type: 'string' } } });
const PAGE = 2;

interface Member {
  value: string;
  display?: string;
}
interface Stored {
  id: string;
  version: number;
  [key: string]: unknown;
}
interface State {
  users: Stored[];
  groups: Stored[];
  version: number;
}

/** A change the test asks for, made in the store just before a matching request is answered. */
type Action = { deleteUser: string } | { setUser: string; attributes: Record<string, unknown> } | { addMember: string; group: string };
interface Hook {
  method: string;
  /** The request's path and query (decoded) must contain this. */
  contains: string;
  /** Fire on this matching request (1 = the first); it fires once. */
  nth: number;
  seen: number;
  actions: Action[];
  fired: boolean;
}
interface Logged {
  method: string;
  url: string;
  status?: number;
}

const state: State = existsSync(args.state!) ? JSON.parse(readFileSync(args.state!, 'utf8')) : { users: [], groups: [], version: 0 };
const save = () => {
  writeFileSync(`${args.state}.tmp`, JSON.stringify(state));
  renameSync(`${args.state}.tmp`, args.state!);
};
const requests: Logged[] = [];
let hooks: Hook[] = [];
/** User attributes a write silently does not keep. */
let dropped: string[] = [];

const notFound = (id: string) => new SCIMMY.Types.Error(404, '', `Resource ${id} not found`);
const meta = (resource: Stored) => ({ version: `W/"${resource.version}"` });
const userOut = (user: Stored) => ({ ...user, version: undefined, meta: meta(user) });
const groupOut = (group: Stored) => ({
  ...group,
  version: undefined,
  members: (group['members'] as Member[]).map((m) => ({ value: m.value, display: state.users.find((u) => u.id === m.value)?.['userName'] })),
  meta: meta(group),
});
const plain = (instance: unknown): Record<string, unknown> => JSON.parse(JSON.stringify(instance));

type Filtered = { id?: string; filter?: { match(values: unknown[]): unknown[] } };
function egress<T>(all: () => Stored[], out: (s: Stored) => T) {
  return async (resource: Filtered) => {
    if (resource.id !== undefined) {
      const found = all().find((r) => r.id === resource.id);
      if (!found) throw notFound(resource.id);
      return out(found);
    }
    const every = all().map(out);
    return resource.filter ? resource.filter.match(every) : every;
  };
}

SCIMMY.Resources.declare(SCIMMY.Resources.User);
SCIMMY.Resources.declare(SCIMMY.Resources.Group);
SCIMMY.Resources.User.egress(egress(() => state.users, userOut) as never);
SCIMMY.Resources.User.ingress((async (resource: { id?: string }, instance: unknown) => {
  const body = plain(instance);
  delete body['meta'];
  delete body['groups'];
  const clash = state.users.find((u) => String(u['userName']).toLowerCase() === String(body['userName']).toLowerCase() && u.id !== resource.id);
  if (clash) throw new SCIMMY.Types.Error(409, 'uniqueness', `userName ${String(body['userName'])} already exists`);
  if (resource.id === undefined) {
    for (const attribute of dropped) delete body[attribute];
    const user: Stored = { ...body, id: randomUUID(), version: ++state.version };
    state.users.push(user);
    save();
    return userOut(user);
  }
  const index = state.users.findIndex((u) => u.id === resource.id);
  if (index < 0) throw notFound(resource.id);
  const current = state.users[index]!;
  for (const attribute of dropped) {
    if (current[attribute] === undefined) delete body[attribute];
    else body[attribute] = current[attribute];
  }
  state.users[index] = { ...body, id: current.id, version: ++state.version };
  save();
  return userOut(state.users[index]);
}) as never);
SCIMMY.Resources.User.degress((async (resource: { id?: string }) => {
  const before = state.users.length;
  state.users = state.users.filter((u) => u.id !== resource.id);
  if (state.users.length === before) throw notFound(resource.id!);
  for (const group of state.groups) group['members'] = (group['members'] as Member[]).filter((m) => m.value !== resource.id);
  save();
}) as never);
SCIMMY.Resources.Group.egress(egress(() => state.groups, groupOut) as never);
SCIMMY.Resources.Group.ingress((async (resource: { id?: string }, instance: unknown) => {
  const body = plain(instance);
  delete body['meta'];
  const members = ((body['members'] as Member[] | undefined) ?? []).map((m) => ({ value: m.value }));
  if (resource.id === undefined) {
    const group: Stored = { ...body, members, id: randomUUID(), version: ++state.version };
    state.groups.push(group);
    save();
    return groupOut(group);
  }
  const index = state.groups.findIndex((g) => g.id === resource.id);
  if (index < 0) throw notFound(resource.id);
  state.groups[index] = { ...body, members, id: resource.id, version: ++state.version };
  save();
  return groupOut(state.groups[index]);
}) as never);
SCIMMY.Resources.Group.degress((async (resource: { id?: string }) => {
  state.groups = state.groups.filter((g) => g.id !== resource.id);
  save();
}) as never);

function run(action: Action): void {
  if ('deleteUser' in action) {
    const user = state.users.find((u) => u['userName'] === action.deleteUser);
    state.users = state.users.filter((u) => u !== user);
    for (const group of state.groups) group['members'] = (group['members'] as Member[]).filter((m) => m.value !== user?.id);
  } else if ('setUser' in action) {
    const user = state.users.find((u) => u['userName'] === action.setUser)!;
    Object.assign(user, action.attributes, { version: ++state.version });
  } else {
    const user = state.users.find((u) => u['userName'] === action.addMember)!;
    const group = state.groups.find((g) => g['displayName'] === action.group)!;
    group['members'] = [...(group['members'] as Member[]), { value: user.id }];
    group.version = ++state.version;
  }
  save();
}

/** `eq` on a plain attribute: no other operator, no sub-attribute path, no value filter. */
function refusedFilter(filter: string): boolean {
  const outsideStrings = filter.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  return /\b(ne|co|sw|ew|pr|gt|ge|lt|le)\b/i.test(outsideStrings) || /[.[]/.test(outsideStrings.replace(/urn:[^\s]*/g, ''));
}

const scimError = (res: Response, status: number, scimType: string | undefined, detail: string) =>
  res
    .status(status)
    .type('application/scim+json')
    .send(JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: String(status), ...(scimType && { scimType }), detail }));

const app = express();
app.disable('x-powered-by');
app.use(express.json({ type: ['application/json', 'application/scim+json'] }));

// For the tests: what was received, hooks, dropped attributes.
app.get('/_test/requests', (_req, res) => void res.json(requests));
app.post('/_test/reset', (_req, res) => {
  requests.length = 0;
  hooks = [];
  dropped = [];
  res.json({});
});
app.post('/_test/hooks', (req, res) => {
  hooks.push({ nth: 1, ...req.body, seen: 0, fired: false });
  res.json({});
});
app.get('/_test/hooks', (_req, res) => void res.json(hooks.map((h) => ({ contains: h.contains, fired: h.fired }))));
app.post('/_test/drop', (req, res) => {
  dropped = req.body.attributes;
  res.json({});
});

app.use('/v2', (req: Request, res: Response, next: NextFunction) => {
  const entry: Logged = { method: req.method, url: decodeURIComponent(req.originalUrl) };
  requests.push(entry);
  res.on('finish', () => (entry.status = res.statusCode));
  if (req.headers.authorization !== `Bearer ${args.token}`) return scimError(res, 401, undefined, 'Authorization failure');
  for (const hook of hooks) {
    if (hook.fired || hook.method !== req.method || !entry.url.includes(hook.contains)) continue;
    if (++hook.seen < hook.nth) continue;
    hook.fired = true;
    for (const action of hook.actions) run(action);
  }
  if (req.method === 'PATCH') return scimError(res, 501, undefined, 'PATCH is not supported');
  if (req.path.endsWith('/.search')) return scimError(res, 501, undefined, 'POST .search is not supported');
  // Express 5 re-parses req.query on every access, so SCIMMY's conversion to numbers would be lost: one own, plain object.
  const query: Record<string, unknown> = { ...(req.query as Record<string, unknown>) };
  Object.defineProperty(req, 'query', { value: query, writable: true, configurable: true });
  if (typeof query['filter'] === 'string' && refusedFilter(query['filter']))
    return scimError(res, 400, 'invalidFilter', 'only "eq" on a plain attribute is supported');
  if (req.method === 'GET' && /^\/(Users|Groups)\/?$/.test(req.path)) {
    // Quirks: pages of 2 whatever is asked, a startIndex below 1 read as 1, and no startIndex or itemsPerPage in the answer.
    query['count'] = String(Math.min(Number(query['count'] ?? PAGE) || PAGE, PAGE));
    query['startIndex'] = String(Math.max(Number(query['startIndex'] ?? 1) || 1, 1));
    const send = res.send.bind(res);
    res.send = (body: unknown) => {
      if (typeof body === 'string' && body.includes('ListResponse')) {
        const list = JSON.parse(body);
        delete list.startIndex;
        delete list.itemsPerPage;
        return send(JSON.stringify(list));
      }
      return send(body);
    };
  }
  next();
});
const routers = new SCIMMYRouters({
  type: 'bearer',
  docUri: 'http://example.org/auth',
  handler: async () => 'rollcall-tests',
  context: () => ({}),
}) as unknown as express.Router;
// After the routers, which turn some features on themselves.
SCIMMY.Config.set({ patch: false, bulk: false, sort: false, etag: false, changePassword: false, filter: { supported: true, maxResults: PAGE } });
app.use('/v2', routers);

const server = app.listen(Number(args.port), '127.0.0.1', () => console.log(`Serving SCIM on http://127.0.0.1:${args.port}/v2`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
