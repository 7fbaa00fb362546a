// Writes Rollcall's Events to the API server: correlated (event-correlator.ts), a repeat only raising
// the count of the Event it repeats, those counts written back at most once per COUNT_FLUSH_MS per
// Event, and every write through the outbox (event-outbox.ts), which retries what the API server
// refuses for now. A write path never waits for an Event: `record` resolves once it is decided.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { PatchStrategy, setHeaderOptions, type CoreV1Api, type CoreV1Event } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clock } from '../clock/clock.ts';
import { EventCorrelator } from './event-correlator.ts';
import { EventOutbox } from './event-outbox.ts';
import { statusCode } from './kube-read.ts';
import type { AnyResource, EventType } from './store.ts';

/** How often, at most, a growing count is written to its Event. */
export const COUNT_FLUSH_MS = 1_000;
/** The API server refuses messages over 1 KiB. */
const MAX_MESSAGE = 1024;
const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

interface Write {
  op: 'create' | 'count';
  event: CoreV1Event;
}

export class KubeEvents {
  readonly #core: CoreV1Api;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #instance = hostname();
  readonly #correlator: EventCorrelator;
  readonly #outbox: EventOutbox<Write>;
  /** Counts to write back, by Event name: the whole Event as it now stands. */
  #counts = new Map<string, CoreV1Event>();
  #flushTimer: NodeJS.Timeout | undefined;
  readonly #inFlight = new Set<Promise<void>>();
  /** The last write of each Event still under way. */
  readonly #chains = new Map<string, Promise<void>>();

  constructor(core: CoreV1Api, clock: Clock, logger: Logger) {
    this.#core = core;
    this.#clock = clock;
    this.#logger = logger;
    this.#correlator = new EventCorrelator(() => clock.now().getTime(), eventName);
    this.#outbox = new EventOutbox<Write>((write) => this.#send(write), clock, logger);
  }

  /** Decides and queues the Event; the write happens after. Never throws. */
  async record(kind: string, object: AnyResource, type: EventType, reason: string, message: string): Promise<void> {
    const namespace = object.metadata.namespace ?? 'default';
    const subject = { kind, namespace, name: object.metadata.name, uid: object.metadata.uid, type, reason };
    const decision = this.#correlator.decide(subject, message);
    if (decision.action === 'drop') {
      this.#logger.debug(
        { event: `${kind} ${namespace}/${object.metadata.name} ${reason}` },
        'Event dropped by the spam filter (the audit log has the change)',
      );
      return;
    }
    const now = this.#clock.now();
    const event: CoreV1Event = {
      metadata: { name: decision.name, namespace },
      involvedObject: {
        apiVersion: object.apiVersion,
        kind,
        name: object.metadata.name,
        namespace,
        uid: object.metadata.uid,
        resourceVersion: object.metadata.resourceVersion,
      },
      reason,
      message: decision.message.length > MAX_MESSAGE ? `${decision.message.slice(0, MAX_MESSAGE - 3)}...` : decision.message,
      type,
      source: { component: 'rollcall' },
      reportingComponent: 'rollcall',
      reportingInstance: this.#instance,
      firstTimestamp: decision.action === 'count' ? decision.firstTimestamp : now,
      lastTimestamp: now,
      count: decision.action === 'count' ? decision.count : 1,
    };
    if (decision.action === 'create') this.#post({ op: 'create', event }, `${kind} ${namespace}/${object.metadata.name} ${reason}`);
    else {
      this.#counts.set(decision.name, event);
      this.#flushTimer ??= setTimeout(() => this.#flushCounts(), COUNT_FLUSH_MS).unref();
    }
  }

  /** Writes what is decided, waits for the writes under way, then closes the outbox (its last try). */
  async close(): Promise<void> {
    await this.flushed();
    await this.#outbox.close();
  }

  /** Everything decided so far is written (or kept by the outbox for a retry). */
  async flushed(): Promise<void> {
    clearTimeout(this.#flushTimer);
    this.#flushCounts();
    await Promise.all(this.#inFlight);
  }

  #flushCounts(): void {
    this.#flushTimer = undefined;
    const counts = this.#counts;
    this.#counts = new Map();
    for (const event of counts.values())
      this.#post(
        { op: 'count', event },
        `${event.involvedObject.kind} ${event.metadata!.namespace}/${event.involvedObject.name} ${event.reason} (count ${event.count})`,
      );
  }

  /** One Event's writes go one after another: a count written late must not undo a later one. */
  #post(write: Write, about: string): void {
    const name = write.event.metadata!.name!;
    const previous = this.#chains.get(name) ?? Promise.resolve();
    const posted: Promise<void> = previous.then(() => this.#outbox.post(write, about));
    this.#chains.set(name, posted);
    this.#inFlight.add(posted);
    void posted.finally(() => {
      this.#inFlight.delete(posted);
      if (this.#chains.get(name) === posted) this.#chains.delete(name);
    });
  }

  async #patchCount(event: CoreV1Event): Promise<void> {
    const { count, lastTimestamp, message } = event;
    await this.#core.patchNamespacedEvent(
      { name: event.metadata!.name!, namespace: event.metadata!.namespace!, body: { count, lastTimestamp, message } },
      MERGE_PATCH,
    );
  }

  async #send({ op, event }: Write): Promise<void> {
    const namespace = event.metadata!.namespace!;
    if (op === 'count') {
      try {
        await this.#patchCount(event);
        return;
      } catch (error) {
        // Not there (its create is still to be retried, or the API server's TTL removed it): create it with its count.
        if (statusCode(error) !== 404) throw error;
      }
    }
    try {
      await this.#core.createNamespacedEvent({ namespace, body: event });
    } catch (error) {
      // Created already: by an earlier try that timed out, or (for a count) meanwhile: write the count.
      if (statusCode(error) !== 409) throw error;
      if (op === 'count') await this.#patchCount(event);
    }
  }
}

/** A fresh Event name for an object, as client-go makes them: the object's name, a dot, a unique suffix. */
function eventName(objectName: string): string {
  const base = objectName.slice(0, 200).replace(/[^a-z0-9]+$/, '');
  return `${base}.${randomBytes(8).toString('hex')}`;
}
