// The watch subscribers of a Store, per kind: shared by KubeStore and MemoryStore.
import type { Logger } from 'pino';
import { KIND_NAMES, type KindName } from '../api/index.ts';
import { keyOf, keyString, type AnyResource, type WatchEvent, type WatchHandler } from './store.ts';

type AnyHandler = (event: WatchEvent, object: AnyResource) => void;

export class WatchHandlers {
  readonly #handlers = new Map<KindName, Set<AnyHandler>>(KIND_NAMES.map((kind) => [kind, new Set()]));
  readonly #logger: Logger;

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
    for (const handler of [...this.#handlers.get(kind)!]) {
      try {
        handler(event, object);
      } catch (error) {
        this.#logger.error({ err: error, kind, object: keyString(keyOf(object)), event }, 'watch handler failed');
      }
    }
  }
}
