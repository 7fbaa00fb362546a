// Issue 17, hole 2, on the real API server: a team-a writer maps a User attribute onto an LDAP
// attribute a mapping must never write: a password (by name, in another case, by OID, with an
// option), Rollcall's marker (businessCategory; AD's adminDescription), lock state, the naming
// attribute, objectClass, membership or an operational attribute. `kubectl apply` is refused by the
// CRD's CEL with the field spec.ldap.attributeMap[KEY] named; an ordinary person attribute, in any
// case, is accepted. (The connector refuses the same maps again: test/conformance/attacks/ldap-attribute-map.)
import { beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, kubectl, kubectlOk } from '../kube.ts';
import { asTeamA as asTeamAIn, letTeamAWriteRollcall } from './team-a.ts';

const FORBIDDEN = [
  'userPassword',
  'USERPASSWORD',
  '2.5.4.35',
  'userPassword;binary',
  'unicodePwd',
  'sambaNTPassword',
  'businessCategory',
  'adminDescription',
  'pwdAccountLockedTime',
  'userAccountControl',
  'lockoutTime',
  'shadowExpire',
  'uid',
  'cn',
  'sAMAccountName',
  'objectClass',
  'memberOf',
  'member',
  'entryUUID',
  'uidNumber',
];

describe('a tenant cannot map a User attribute onto a password, lock, naming or marker attribute', () => {
  let namespace: string;
  /** kubectl as a team-a writer: every Rollcall kind in its namespace, nothing else. */
  const asTeamA = (args: string[], input?: string) => asTeamAIn(namespace, args, input);
  const system = (name: string, attributeMap: Record<string, string>) => `apiVersion: rollcall.dev/v1alpha1
kind: ConnectedSystem
metadata: {name: ${name}}
spec:
  type: ldap
  allowPrivateNetwork: true
  insecure: true
  ldap:
    url: ldap://127.0.0.1:1
    peopleDN: ou=people,dc=example,dc=org
    groupsDN: ou=groups,dc=example,dc=org
    attributeMap: ${JSON.stringify(attributeMap)}
`;

  beforeAll(() => {
    namespace = createNamespace('attack-attrmap');
    letTeamAWriteRollcall(namespace);
  });

  it.each(FORBIDDEN)('refuses a mapping onto %s, naming spec.ldap.attributeMap[secret]', (target) => {
    const applied = asTeamA(['apply', '-f', '-'], system('directory', { email: 'mail', secret: target }));
    expect(applied.code).not.toBe(0);
    expect(applied.stderr).toContain('spec.ldap.attributeMap[secret]');
    expect(applied.stderr).toContain('is not an LDAP attribute a mapping may write');
    expect(applied.stderr).not.toContain('spec.ldap.attributeMap[email]');
    expect(kubectl(['get', 'csys', 'directory', '-n', namespace]).code).not.toBe(0); // nothing stored
  });

  it('refuses the change of a stored system too, and admits ordinary person attributes in any case', () => {
    expect(asTeamA(['apply', '-f', '-'], system('directory', { email: 'MAIL', room: 'roomNumber', phone: 'telephoneNumber' })).code).toBe(0);
    const changed = asTeamA(['apply', '-f', '-'], system('directory', { email: 'mail', owner: 'businessCategory' }));
    expect(changed.code).not.toBe(0);
    expect(changed.stderr).toContain('spec.ldap.attributeMap[owner]');
    const stored = JSON.parse(kubectlOk(['get', 'csys', 'directory', '-n', namespace, '-o', 'json']));
    expect(stored.spec.ldap.attributeMap).toEqual({ email: 'MAIL', room: 'roomNumber', phone: 'telephoneNumber' });
  });
});
