// An undici Agent whose every connection passes the egress guard: DNS answers through its lookup,
// literal addresses before connecting. Each request, retry and redirect hop that opens a connection
// goes through it, so none reaches an address the guard refuses.
import { Agent, buildConnector } from 'undici';
import type { EgressGuard } from './guard.ts';

export interface GuardedAgentOptions {
  /** PEM of a CA to trust instead of the system's (a credentials Secret's ca.crt). */
  ca?: string;
}

export function guardedAgent(guard: EgressGuard, options: GuardedAgentOptions = {}): Agent {
  const connector = buildConnector({ ...(options.ca === undefined ? {} : { ca: options.ca }), lookup: guard.lookup });
  return new Agent({
    connect: (connectOptions, callback) => {
      const refusal = guard.refusalFor(connectOptions.hostname);
      if (refusal) return callback(refusal, null);
      return connector(connectOptions, callback);
    },
  });
}
