// Which RBAC subject name a user gets: the userName itself, or (spec.kubernetes.subjectName: email)
// the e-mail address the cluster's authenticator puts in tokens. A grant carries only the userName,
// so the address comes from the user's existing bindings or else from the User resource itself.
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { PermanentError } from '../../api/index.ts';
import type { ManagedBinding } from './bindings.ts';
import { apiCall, type CallSettings } from './call.ts';

interface UserObject {
  spec?: { userName?: unknown; email?: unknown };
}

/** `held` lists the user's managed bindings; called only when the subject is not the userName itself. */
export type SubjectLookup = (userName: string, held: () => Promise<readonly ManagedBinding[]>, signal: AbortSignal) => Promise<string>;

export function subjectLookup(mode: 'userName' | 'email', kubeconfig: KubeConfig, namespace: string, settings: CallSettings): SubjectLookup {
  if (mode === 'userName') return async (userName) => userName;
  const api = kubeconfig.makeApiClient(CustomObjectsApi);
  return async (userName, held, signal) => {
    const known = (await held()).find((binding) => binding.intact)?.subjectName;
    if (known) return known;
    const list = await apiCall(
      settings,
      `look up the e-mail of User ${JSON.stringify(userName)}`,
      `list users.rollcall.dev in namespace ${namespace}`,
      signal,
      (options) => api.listNamespacedCustomObject({ group: 'rollcall.dev', version: 'v1alpha1', namespace, plural: 'users' }, options),
    );
    const users = ((list as { items?: UserObject[] }).items ?? []).filter((user) => user.spec?.userName === userName);
    const email = users[0]?.spec?.email;
    if (typeof email !== 'string' || email === '') {
      throw new PermanentError(
        `kubernetes system ${settings.system} names subjects by e-mail (spec.kubernetes.subjectName: email), but User ${JSON.stringify(userName)} in namespace ${namespace} has no spec.email`,
      );
    }
    return email;
  };
}
