// What this connector checked a moment ago, so the common path, a create followed by its grants,
// sends only the writes: the marker role is fit, the new role is ours, the group role may be
// granted. Each is forgotten when the server says otherwise, and on its own after a minute.
import { Recent } from '../recent.ts';

export class KnownRoles {
  /** The marker role exists and is a plain NOLOGIN role. */
  readonly marker = new Recent<true>();
  /** Login roles inside the managed scope. */
  readonly managed = new Recent<true>();
  /** Group roles that may be granted: they exist and pass the rule of grantable.ts. */
  readonly grantable = new Recent<true>();
}
