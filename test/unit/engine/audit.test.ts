// The audit of one system, read off planSystemPass: every finding kind in one scenario.
import { describe, expect, it } from 'vitest';
import { auditSystem, planSystemPass, type World } from '../../../src/engine/index.ts';
import { DAY, FULL, NOW, at, binding, grants, observed, role, system, user } from './fixtures.ts';

const wiki = system('wiki', { orphans: 'report' });
const world: World = {
  systems: [wiki],
  roles: [
    role('staff', { grants: grants({ wiki: ['all'] }) }),
    role('editor', { grants: grants({ wiki: ['edit'] }), conflictsWith: ['auditor'] }),
    role('auditor', { grants: grants({ wiki: ['audit'] }) }),
    role('admin', { grants: grants({ wiki: ['admin'] }), requiresApproval: true }),
    role('temp', { grants: grants({ wiki: ['temp'] }) }),
  ],
  bindings: [
    binding('staff', { role: 'staff', users: ['ann', 'ben', 'cid', 'dan'] }),
    binding('ann-editor', { role: 'editor', users: ['ann'] }),
    binding('ann-auditor', { role: 'auditor', users: ['ann'] }),
    binding('ben-temp', { role: 'temp', users: ['ben'], validUntil: at(3 * DAY) }),
    binding('cid-temp', { role: 'temp', users: ['cid'], validUntil: at(-DAY) }),
    binding('dan-admin', { role: 'admin', users: ['dan'], requestedBy: 'dan' }),
  ],
};
const users = [user('ann'), user('ben'), user('cid'), user('dan'), user('eve')];
const listing = [
  observed('ann', 'present', ['all', 'audit', 'edit']),
  observed('ben', 'present', ['temp']), // 'all' missing
  observed('cid', 'present', ['all', 'temp']), // temp expired
  observed('dan', 'present', ['admin', 'all']), // admin without approval
  observed('eve', 'present', ['root']), // nothing grants eve anything
  observed('zed', 'present', []), // no User
];

describe('auditSystem', () => {
  it('reports orphans, creep, missing, expired, expiring, conflicts and pending approvals', () => {
    const pass = planSystemPass({ system: wiki, users, world, listing, capabilities: FULL, recent: [], now: NOW });
    const findings = auditSystem({ pass, users, world, now: NOW, expiringWithinMs: 7 * DAY });
    expect(findings.map((f) => [f.kind, f.userName ?? f.binding, f.entitlement ?? f.role ?? ''])).toEqual([
      ['orphan', 'zed', ''],
      ['creep', 'dan', 'admin'],
      ['creep', 'eve', ''],
      ['missing', 'ben', 'all'],
      ['expired', 'cid', 'temp'],
      ['expiring', 'ben', 'temp'],
      ['conflict', 'ann', 'auditor + editor'],
      ['pendingApproval', 'dan-admin', 'admin'],
    ]);
    expect(findings.find((f) => f.kind === 'expiring')!.at).toBe(at(3 * DAY));
    expect(findings.find((f) => f.kind === 'creep' && f.userName === 'dan')!.detail).toMatch(/without the approval the binding needs \(Pending\)/);
  });

  it('nothing beyond the window is expiring', () => {
    const pass = planSystemPass({ system: wiki, users, world, listing, capabilities: FULL, recent: [], now: NOW });
    expect(auditSystem({ pass, users, world, now: NOW, expiringWithinMs: DAY }).filter((f) => f.kind === 'expiring')).toEqual([]);
  });
});
