// The watch subscribers of a Store, per kind: shared by KubeStore and MemoryStore. It remembers the
// last object it delivered per key, so every handler gets the object before the change as well.
import type { Logger } from 'pino';
import { KIND_NAMES, type KindName } from '../api/index.ts';
import { keyOf, keyString, type AnyResource, type WatchEvent, type WatchHandler } from './store.ts';

type AnyHandler = (event: WatchEvent, object: AnyResource, old: AnyResource | undefined) => void;

export class WatchHandlers {
  readonly #handlers = new Map<KindName, Set<AnyHandler>>(KIND_NAMES.map((kind) => [kind, new Set()]));
  readonly #logger: Logger;
  readonly #last = new Map<KindName, Map<string, AnyResource>>(KIND_NAMES.map((kind) => [kind, new Map()]));

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Subscribes; returns the unsubscribe function. */
  add<K extends KindName>(kind: K, handler: WatchHandler<K>): () => void {
    const handlers = this.#handlers.get(kind)!;
    const anyHandler = handler as unknown as AnyHandler;
    handlers.add(anyHandler);
    return () => handlers.delete(anyHandler);
  }

  /** Calls every subscriber; one that throws is logged and never stops the others. */
  dispatch(kind: KindName, event: WatchEvent, object: AnyResource): void {
    const last = this.#last.get(kind)!;
    const key = keyString(keyOf(object));
    const old = last.get(key);
    if (event === 'delete') last.delete(key);
    else last.set(key, object);
    for (const handler of [...this.#handlers.get(kind)!]) {
      try {
        handler(event, object, old);
      } catch (error) {
        this.#logger.error({ err: error, kind, object: keyString(keyOf(object)), event }, 'watch handler failed');
      }
    }
  }
}
