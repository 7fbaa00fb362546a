// One sync decided: joiners, movers, leavers, rehires, collisions and the change guard.
import { describe, expect, it } from 'vitest';
import { identitySourceSpec, type User } from '../../../src/api/index.ts';
import type { DesiredUser, MappedFeed } from '../../../src/sources/map.ts';
import { planSourceSync, type SourceRef } from '../../../src/sources/plan.ts';

const source = (overrides: Partial<SourceRef['spec']> = {}, annotations?: Record<string, string>): SourceRef => ({
  name: 'hr',
  namespace: 'acme',
  annotations,
  spec: {
    ...identitySourceSpec.parse({
      type: 'csv',
      idField: 'id',
      url: 'https://hr.example.com/people.csv',
      mapping: [
        { to: 'department', from: 'dept' },
        { to: 'labels/team', from: 'team' },
      ],
    }),
    ...overrides,
  },
});

/** A User as the store holds it: `owner` is the source label (none: created by hand). */
function existing(name: string, spec: Partial<User['spec']> = {}, owner: string | null = 'hr', labels: Record<string, string> = {}): User {
  return {
    apiVersion: 'rollcall.dev/v1alpha1',
    kind: 'User',
    metadata: { name, namespace: 'acme', resourceVersion: '7', labels: { ...(owner && { 'rollcall.dev/source': owner }), ...labels } },
    spec: { userName: name, employeeType: 'employee', state: 'active', ...spec },
  };
}

function desired(name: string, dept?: string, team?: string, leaver = false): DesiredUser {
  return { name, id: name.toUpperCase(), ref: 'line', leaver, spec: { userName: name, ...(dept && { department: dept }) }, labels: { ...(team && { team }) } };
}

const feed = (users: DesiredUser[], extra: Partial<MappedFeed> = {}): MappedFeed => ({ users, protectedNames: new Set(), unidentified: 0, ...extra });

/** The plan in a compact form: create, update, terminate lines, unchanged and collisions. */
function summary(plan: ReturnType<typeof planSourceSync>) {
  return {
    create: plan.creates.map((c) => `${c.name} ${JSON.stringify(c.labels)}`),
    update: plan.updates.map((u) => `${u.name}${u.rehire ? ' (rehire)' : ''} ${JSON.stringify(u.patch)}`),
    terminate: plan.terminations.map((t) => `${t.name} ${t.state} (${t.reason})`),
    unchanged: plan.unchanged,
    collisions: plan.collisions.map((c) => c.reason),
    tripped: plan.guard.tripped,
  };
}

const team = (n: number) => Array.from({ length: n }, (_, i) => `u${i}`);

describe('planSourceSync', () => {
  it.each([
    {
      title: 'a joiner is created with the source and managed-by labels',
      feed: feed([desired('alice', 'Sales', 'sales')]),
      users: [],
      want: { create: ['alice {"team":"sales","rollcall.dev/source":"hr","app.kubernetes.io/managed-by":"rollcall"}'] },
    },
    {
      title: 'a mover gets only the managed fields patched; a field removed from the record is removed',
      feed: feed([desired('alice', 'Finance')]),
      users: [existing('alice', { department: 'Sales', title: 'Rep' }, 'hr', { team: 'sales', other: 'kept' })],
      want: { update: ['alice {"spec":{"department":"Finance"},"labels":{"team":null}}'] },
    },
    {
      title: 'an unchanged record changes nothing',
      feed: feed([desired('alice', 'Sales', 'sales')]),
      users: [existing('alice', { department: 'Sales', title: 'Hand-set' }, 'hr', { team: 'sales' })],
      want: { unchanged: ['alice'] },
    },
    {
      title: 'a User missing from the feed is terminated',
      feed: feed([desired('alice', 'Sales', 'sales')]),
      users: [existing('alice', { department: 'Sales' }, 'hr', { team: 'sales' }), existing('bob')],
      want: { unchanged: ['alice'], terminate: ['bob terminated (missing)'] },
    },
    {
      title: 'a leaver marked in the feed is terminated; one never created is not created',
      feed: feed([desired('alice', undefined, undefined, true), desired('zed', undefined, undefined, true)]),
      users: [existing('alice')],
      want: { terminate: ['alice terminated (leaver)'] },
    },
    {
      title: 'a rehire reactivates the same User',
      feed: feed([desired('alice', 'Sales')]),
      users: [existing('alice', { state: 'terminated', department: 'Sales' })],
      want: { update: ['alice (rehire) {"spec":{"state":"active"}}'] },
    },
    {
      title: 'a User the source did not create is never changed: a collision is reported',
      feed: feed([desired('alice', 'Sales'), desired('bob')]),
      users: [existing('alice', {}, null), existing('bob', {}, 'payroll'), existing('carol', {}, null)],
      want: { collisions: ['User alice exists and was not created by a source', 'User bob belongs to source payroll'] },
    },
    {
      title: 'a userName another User holds is a collision, not a create',
      feed: feed([{ ...desired('e7'), spec: { userName: 'alice' } }]),
      users: [existing('alice', {}, null)],
      want: { collisions: ['userName alice is held by User alice'] },
    },
    {
      title: 'a User whose record was rejected is left alone',
      feed: feed([], { protectedNames: new Set(['alice']) }),
      users: [existing('alice')],
      want: { unchanged: ['alice'] },
    },
    {
      title: 'a record that could not be identified stops terminations of the missing',
      feed: feed([], { unidentified: 1 }),
      users: [existing('alice')],
      want: { unchanged: ['alice'] },
    },
    {
      title: 'missingPolicy suspend suspends; an already terminated User stays as it is',
      source: source({ missingPolicy: 'suspend' }),
      feed: feed([]),
      users: [existing('alice'), existing('bob', { state: 'terminated' })],
      want: { terminate: ['alice suspended (missing)'], unchanged: ['bob'] },
    },
    {
      title: 'missingPolicy ignore leaves the missing alone',
      source: source({ missingPolicy: 'ignore' }),
      feed: feed([]),
      users: [existing('alice')],
      want: { unchanged: ['alice'] },
    },
  ])('$title', ({ feed: f, users, want, source: s }) => {
    expect(summary(planSourceSync(s ?? source(), f, users))).toEqual({
      create: [],
      update: [],
      terminate: [],
      unchanged: [],
      collisions: [],
      tripped: false,
      ...want,
    });
  });

  describe('the change guard', () => {
    const users = team(20).map((n) => existing(n));
    const truncated = feed(
      team(20)
        .slice(0, 8)
        .map((n) => desired(n)),
    );

    it('holds every termination of a truncated feed, with the numbers', () => {
      const plan = planSourceSync(source(), truncated, users);
      expect(plan.guard).toEqual({ tripped: true, count: 12, limit: 5, managed: 20, approved: false });
      expect(plan.terminations).toHaveLength(12);
    });

    it('lets a single leaver through at once', () => {
      const plan = planSourceSync(
        source(),
        feed(
          team(20)
            .slice(1)
            .map((n) => desired(n)),
        ),
        users,
      );
      expect(plan.guard).toMatchObject({ tripped: false, count: 1 });
    });

    it('takes the larger of maxCount and maxPercent', () => {
      const big = team(200).map((n) => existing(n));
      const plan = planSourceSync(
        source(),
        feed(
          team(200)
            .slice(0, 185)
            .map((n) => desired(n)),
        ),
        big,
      );
      expect(plan.guard).toMatchObject({ tripped: false, count: 15, limit: 20 });
    });

    it('is released by the annotation with the count shown, and only that count', () => {
      expect(planSourceSync(source({}, { 'rollcall.dev/approve-changes': '12' }), truncated, users).guard).toMatchObject({ tripped: false, approved: true });
      expect(planSourceSync(source({}, { 'rollcall.dev/approve-changes': '11' }), truncated, users).guard).toMatchObject({ tripped: true, approved: false });
    });
  });
});
