// The leader's own Pod carries the label rollcall.dev/leader: "true" while it leads, so a Service
// selecting that label (the chart's inbound SCIM Service) reaches the one replica that runs the
// controllers and serves SCIM; a standby would refuse the connection. Removed when leadership ends
// and at start, since a container restarted in the same Pod must not inherit its predecessor's label.
import { PatchStrategy, setHeaderOptions, type CoreV1Api } from '@kubernetes/client-node';
import type { Logger } from 'pino';

export const LEADER_LABEL = 'rollcall.dev/leader';

const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const ATTEMPTS = 5;

export class LeaderPodLabel {
  readonly #api: Pick<CoreV1Api, 'patchNamespacedPod'>;
  readonly #pod: { namespace: string; name: string };
  readonly #logger: Logger | undefined;
  readonly #retryDelayMs: number;

  constructor(options: { api: Pick<CoreV1Api, 'patchNamespacedPod'>; namespace: string; name: string; logger?: Logger; retryDelayMs?: number }) {
    this.#api = options.api;
    this.#pod = { namespace: options.namespace, name: options.name };
    this.#logger = options.logger;
    this.#retryDelayMs = options.retryDelayMs ?? 1000;
  }

  /** Labels the Pod as the leader, or removes the label. A merge patch touches nothing but that label. */
  async set(leading: boolean): Promise<void> {
    const body = { metadata: { labels: { [LEADER_LABEL]: leading ? 'true' : null } } };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#api.patchNamespacedPod({ ...this.#pod, body }, MERGE_PATCH);
        this.#logger?.info(
          { pod: `${this.#pod.namespace}/${this.#pod.name}`, leading },
          leading ? 'labelled this pod as the leader' : 'removed the leader label from this pod',
        );
        return;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (attempt >= ATTEMPTS) {
          throw new Error(
            `cannot ${leading ? 'set' : 'remove'} the label ${LEADER_LABEL} on pod ${this.#pod.namespace}/${this.#pod.name} (it needs get and patch on pods in its namespace): ${message}`,
            { cause: error },
          );
        }
        this.#logger?.warn({ pod: `${this.#pod.namespace}/${this.#pod.name}`, attempt, err: message }, 'labelling this pod failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, this.#retryDelayMs * attempt));
      }
    }
  }
}
