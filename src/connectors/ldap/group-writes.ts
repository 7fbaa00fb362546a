// Group membership changes as LDAP modify `add` / `delete` of the member value, without reading the
// group: a group of thousands of members is never fetched to change one, and the server, which
// compares values by the attribute's own matching rule, answers whether the member was already
// there. While one modify of a group is in flight, further changes to it queue up and go out
// together as the next modify, with many values: one write per group at a time, as few as possible.
import { Attribute, Change, NoSuchObjectError, ResultCodeError, type Client } from 'ldapts';
import { PermanentError, RetryableError } from '../../api/index.ts';
import { escapeFilterValue } from './escape.ts';
import { Recent } from '../recent.ts';

/**
 * groupOfNames must keep at least one member (RFC 4519), so when its last real member goes, this
 * DN takes its place, and it leaves again when a real member arrives. It names no entry (it is
 * outside every suffix), so it grants nothing and memberof/refint ignore it.
 */
export const EMPTY_GROUP_PLACEHOLDER = 'cn=rollcall-placeholder';

/** Answers that say the group already is as asked: the value is there (OpenLDAP; AD says 68), or is not. */
const ALREADY_A_MEMBER = new Set([20, 68]);
const NOT_A_MEMBER = 16;
/** OpenLDAP's answer when a delete would leave a groupOfNames without a member. */
const WOULD_BE_EMPTY = 65;
const MAX_VALUES_PER_MODIFY = 500;

export interface GroupTarget {
  /** The entitlement, for messages. */
  name: string;
  dn: string;
  /** One spelling per group, to queue its changes together. */
  key: string;
  attribute: string;
  /** A groupOfNames that may not be empty: the placeholder stands in for the last member. */
  placeholder: boolean;
  system: string;
}

type Operation = 'add' | 'delete';

interface Request {
  client: Client;
  operation: Operation;
  value: string;
  settle: PromiseWithResolvers<void>;
}

export class GroupWrites {
  /** Requests waiting per group; a group is in the map while its queue is being written. */
  readonly #queues = new Map<string, Request[]>();
  /** Whether a group held the placeholder when last written; unknown until then. */
  readonly #holdsPlaceholder = new Recent<boolean>();

  /** Makes `value` a member of the group; resolves when it is one (already being one included). */
  add(client: Client, group: GroupTarget, value: string): Promise<void> {
    return this.#submit(client, group, 'add', value);
  }

  /** Makes `value` no member of the group; resolves when it is none. */
  remove(client: Client, group: GroupTarget, value: string): Promise<void> {
    return this.#submit(client, group, 'delete', value);
  }

  #submit(client: Client, group: GroupTarget, operation: Operation, value: string): Promise<void> {
    const request: Request = { client, operation, value, settle: Promise.withResolvers<void>() };
    const queue = this.#queues.get(group.key);
    if (queue) {
      queue.push(request);
    } else {
      this.#queues.set(group.key, [request]);
      void this.#drain(group);
    }
    return request.settle.promise;
  }

  async #drain(group: GroupTarget): Promise<void> {
    const queue = this.#queues.get(group.key)!;
    while (queue.length > 0) await this.#writeBatch(group, takeBatch(queue));
    this.#queues.delete(group.key);
  }

  /** Settles every request of the batch; never throws. */
  async #writeBatch(group: GroupTarget, batch: Request[]): Promise<void> {
    const { client, operation } = batch[0]!;
    // The session dropped this connection while the requests waited: ldapts would reconnect it
    // unbound, and the server would refuse an anonymous write as if it were forbidden.
    if (!client.isConnected || !client.isBound) {
      const error = new RetryableError(`LDAP modify of ${group.dn} on ${group.system}: the connection closed before it was sent`);
      for (const request of batch) request.settle.reject(error);
      return;
    }
    try {
      await this.#write(
        client,
        group,
        operation,
        batch.map((request) => request.value),
      );
      for (const request of batch) request.settle.resolve();
    } catch (error) {
      if (batch.length === 1) {
        const [request] = batch as [Request];
        await this.#answered(client, group, operation, request.value, error).then(request.settle.resolve, request.settle.reject);
      } else if (error instanceof ResultCodeError) {
        // One value spoilt the batch (already there, not there, no such entry): each on its own, so
        // only the change it belongs to sees the error.
        for (const request of batch) await this.#writeBatch(group, [request]);
      } else {
        for (const request of batch) request.settle.reject(error);
      }
    }
  }

  /** One modify; the placeholder leaves with the first real member and returns in place of the last. */
  async #write(client: Client, group: GroupTarget, operation: Operation, values: string[]): Promise<void> {
    const { dn, attribute, key, placeholder } = group;
    if (operation === 'add') {
      const dropPlaceholder = placeholder && this.#holdsPlaceholder.get(key) !== false;
      const changes = [change('add', attribute, values)];
      if (dropPlaceholder) changes.push(change('delete', attribute, [EMPTY_GROUP_PLACEHOLDER]));
      try {
        await client.modify(dn, changes);
      } catch (error) {
        // The placeholder was not there after all: add the members alone.
        if (!dropPlaceholder || codeOf(error) !== NOT_A_MEMBER) throw error;
        this.#holdsPlaceholder.set(key, false);
        await client.modify(dn, change('add', attribute, values));
      }
      this.#holdsPlaceholder.set(key, false);
      return;
    }
    try {
      await client.modify(dn, change('delete', attribute, values));
    } catch (error) {
      if (!placeholder || codeOf(error) !== WOULD_BE_EMPTY) throw error;
      // In one modify, so the group is never without a member, not even between two operations.
      await client.modify(dn, [change('add', attribute, [EMPTY_GROUP_PLACEHOLDER]), change('delete', attribute, values)]);
      this.#holdsPlaceholder.set(key, true);
    }
  }

  /** Turns the server's refusal of one value into success when the group already is as asked. */
  async #answered(client: Client, group: GroupTarget, operation: Operation, value: string, error: unknown): Promise<void> {
    const code = codeOf(error);
    if (operation === 'add' && code !== undefined && ALREADY_A_MEMBER.has(code)) return;
    if (operation === 'delete' && code === NOT_A_MEMBER) return;
    if (error instanceof NoSuchObjectError && !(await exists(client, group.dn))) {
      throw new PermanentError(`entitlement "${group.name}" of ${group.system}: group ${group.dn} does not exist; create it or fix the AccessRole`);
    }
    // Active Directory refuses to remove a member it does not hold (unwilling to perform): ask it.
    if (operation === 'delete' && error instanceof ResultCodeError && !(error instanceof NoSuchObjectError) && !(await holds(client, group, value))) return;
    throw error;
  }
}

/** The longest run from the front with one operation and no value twice (a value twice would fail the modify). */
function takeBatch(queue: Request[]): Request[] {
  const first = queue[0]!;
  const values = new Set<string>();
  let end = 0;
  while (end < queue.length && end < MAX_VALUES_PER_MODIFY) {
    const request = queue[end]!;
    if (request.operation !== first.operation || request.client !== first.client || values.has(request.value)) break;
    values.add(request.value);
    end++;
  }
  return queue.splice(0, end);
}

function change(operation: Operation, type: string, values: string[]): Change {
  return new Change({ operation, modification: new Attribute({ type, values }) });
}

function codeOf(error: unknown): number | undefined {
  return error instanceof ResultCodeError ? error.code : undefined;
}

async function exists(client: Client, dn: string): Promise<boolean> {
  try {
    await client.search(dn, { scope: 'base', attributes: ['1.1'] });
    return true;
  } catch (error) {
    if (error instanceof NoSuchObjectError) return false;
    throw error;
  }
}

/** Whether the group holds `value`, asked with a filter so the member list itself is not sent. */
async function holds(client: Client, group: GroupTarget, value: string): Promise<boolean> {
  const { searchEntries } = await client.search(group.dn, { scope: 'base', filter: `(${group.attribute}=${escapeFilterValue(value)})`, attributes: ['1.1'] });
  return searchEntries.length > 0;
}
