// The smallest world several controller tests share: one embedded sqlite system `directory` in
// namespace acme, one role granting `staff` there, bound to alice, and (optionally) alice herself.
import { accessBinding, accessRole, sqliteSystem, user, type Manifest, type SpecOf } from './manifests.ts';

export interface AliceDirectory {
  /** The sqlite file of the system. */
  path: string;
  /** The rest of the system's spec (deprovision, credentials, suspend, ...). */
  system?: Partial<SpecOf<'ConnectedSystem'>>;
  /** Whether the User alice is declared (false: `kubectl delete user alice`); default true. */
  withUser?: boolean;
}

export function aliceDirectory({ path, system = {}, withUser = true }: AliceDirectory): Manifest[] {
  return [
    sqliteSystem('directory', path, system),
    accessRole('staff', { directory: ['staff'] }),
    accessBinding('staff', { users: ['alice'] }),
    ...(withUser ? [user('alice')] : []),
  ];
}
