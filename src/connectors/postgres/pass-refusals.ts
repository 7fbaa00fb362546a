// Which group roles this system refuses, asked of the server once per pass rather than once per User:
// the Users of a pass share a few entitlements, so the first to ask pays one query for the names not
// answered yet, and Users asking at the same moment wait for that same query. The answers are
// forgotten at the next listing (a role made elevated since is refused from then on) and after a
// minute at most; a grant still checks the role again unless it was found grantable a moment ago.
import type { RefusedEntitlement } from '../../api/index.ts';
import { Recent } from '../recent.ts';

/** The reason a name is refused, or undefined when it is not. */
type Answer = Promise<string | undefined>;

export class PassRefusals {
  #answers = new Recent<Answer>();

  /** Starts a new pass: every name is asked afresh. */
  clear(): void {
    this.#answers = new Recent<Answer>();
  }

  /** The refused among `names`; `ask` is called once, with the names not answered in this pass yet. */
  async refused(names: readonly string[], ask: (names: string[]) => Promise<RefusedEntitlement[]>): Promise<RefusedEntitlement[]> {
    const answers = this.#answers;
    // Taken before waiting, so a failure reaches every User that waits for it.
    const mine = new Map<string, Answer>();
    for (const name of new Set(names)) {
      const known = answers.get(name);
      if (known) mine.set(name, known);
    }
    const missing = [...new Set(names)].filter((name) => !mine.has(name));
    if (missing.length > 0) {
      const asked = ask(missing).then((refused) => new Map(refused.map(({ entitlement, reason }) => [entitlement, reason])));
      for (const name of missing) {
        const answer = asked.then((reasons) => reasons.get(name));
        // A failed question is asked again by the next User, not kept as the answer.
        answer.catch(() => {
          if (answers.get(name) === answer) answers.delete(name);
        });
        answers.set(name, answer);
        mine.set(name, answer);
      }
    }
    const reasons = await Promise.all([...mine].map(async ([entitlement, answer]) => ({ entitlement, reason: await answer })));
    return reasons.filter((r): r is RefusedEntitlement => r.reason !== undefined);
  }
}
