// The AccessReview reconciler: lists in status the access under review (User × binding, granted
// when and by whom) and what was decided, posts ReviewDecision for each new decision, and completes
// the review at its due date, when undecided items take the default. It grants and removes nothing
// itself: the engine reads the decisions (src/engine/review.ts) and the User reconciler acts.
// A completed review keeps its items as the record.
import type { AccessReview } from '../api/index.ts';
import { setCondition, statusEqual } from '../api/conditions.ts';
import { applicableBindings, inForce, nextDue, parsePeriod, reviewCovers, reviewVerdict } from '../engine/index.ts';
import type { ControllerContext } from './context.ts';
import type { Reconciler } from './reconciler.ts';

type ReviewStatus = NonNullable<AccessReview['status']>;
type Item = NonNullable<ReviewStatus['items']>[number];

export function reviewReconciler(ctx: ControllerContext): Reconciler {
  return async (key) => {
    const review = ctx.store.get('AccessReview', key);
    if (!review) return {};
    const now = ctx.clock.now();
    const due = Date.parse(review.spec.dueDate);
    const completed = now.getTime() >= due;
    const previous = review.status;
    const frozen = previous?.phase === 'Completed' && previous.items !== undefined;
    const items = frozen ? previous.items! : reviewItems(ctx, review, now, completed);

    const status: ReviewStatus = {
      observedGeneration: review.metadata.generation,
      phase: completed ? 'Completed' : 'Open',
      items,
      conditions: setCondition(
        previous?.conditions,
        completed
          ? { type: 'Ready', status: 'True', reason: 'Completed', message: `completed: ${summary(items)}` }
          : { type: 'Ready', status: 'True', reason: 'Open', message: `open until ${review.spec.dueDate}: ${summary(items)}` },
        review.metadata.generation,
        now,
      ),
    };
    if (completed) status.completedAt = previous?.completedAt ?? now.toISOString();
    if (previous?.nextReview) status.nextReview = previous.nextReview;
    else if (completed && review.spec.schedule) status.nextReview = await scheduleNext(ctx, review, now);
    if (!statusEqual(previous ?? {}, status)) {
      await ctx.store.updateStatus('AccessReview', key, status);
      for (const item of items) {
        const before = previous?.items?.find((p) => p.user === item.user && p.binding === item.binding);
        if (item.decision && (before?.decision !== item.decision || before?.decidedBy !== item.decidedBy)) {
          await ctx.store.recordEvent(
            'AccessReview',
            review,
            'Normal',
            'ReviewDecision',
            `${item.decidedBy} decided ${item.decision} for ${item.user} (binding ${item.binding}, role ${item.role})`,
          );
        }
      }
    }
    return completed ? {} : { requeueAt: new Date(due) };
  };
}

export const REVIEW_SERIES_LABEL = 'rollcall.dev/review-series';

/**
 * The next campaign of a scheduled review: the same scope, reviewers and default, due at the first
 * period of the schedule after now (counted from this one's due date), named after its series and
 * due date (so a retry creates nothing twice). Periods missed while Rollcall was down, or because
 * the due date lies far back (1970), are skipped: one overdue review, never one per missed period.
 */
async function scheduleNext(ctx: Pick<ControllerContext, 'store'>, review: AccessReview, now: Date): Promise<string> {
  const series = review.metadata.labels?.[REVIEW_SERIES_LABEL] ?? review.metadata.name;
  const dueDate = nextDue(Date.parse(review.spec.dueDate), parsePeriod(review.spec.schedule!, '1h'), now.getTime());
  const stamp = dueDate
    .toISOString()
    .replace(/[-:]|\.\d{3}Z$/g, '')
    .toLowerCase(); // 20270301t000000
  // A schedule of whole days keeps the date alone in the name; a shorter one needs the time too.
  const name = `${series.slice(0, 230)}-${stamp.endsWith('t000000') ? stamp.slice(0, 8) : stamp}`;
  const { decisions: _decisions, ...spec } = review.spec;
  await ctx.store.create('AccessReview', {
    apiVersion: review.apiVersion,
    kind: 'AccessReview',
    metadata: { name, namespace: review.metadata.namespace, labels: { [REVIEW_SERIES_LABEL]: series, 'app.kubernetes.io/managed-by': 'rollcall' } },
    spec: { ...spec, dueDate: dueDate.toISOString().replace(/\.\d{3}Z$/, 'Z') },
  });
  return name;
}

/** The grants in force (this review's own revokes left out) that the review covers, with their verdicts. */
function reviewItems(ctx: Pick<ControllerContext, 'store'>, review: AccessReview, now: Date, completed: boolean): Item[] {
  const namespace = review.metadata.namespace ?? 'default';
  const bindings = ctx.store.list('AccessBinding', namespace);
  const roles = ctx.store.list('AccessRole', namespace);
  // Other reviews' revokes count (a grant they ended is not reviewed again); this one's own do not.
  const others = ctx.store.list('AccessReview', namespace).filter((other) => other.metadata.name !== review.metadata.name);
  const items: Item[] = [];
  const users = ctx.store.list('User', namespace);
  for (const user of users) {
    for (const grant of applicableBindings(user, bindings, roles, others, users)) {
      if (!reviewCovers(review, grant.binding, grant.role, user)) continue;
      const verdict = reviewVerdict(review, grant.binding, grant.role, user);
      const decided = verdict && (verdict.decidedBy !== 'default' || completed);
      if (!decided && !inForce(grant, now.getTime())) continue;
      const item: Item = {
        user: user.metadata.name,
        binding: grant.binding.metadata.name,
        role: grant.binding.spec.role,
        how: grant.binding.spec.users?.includes(user.metadata.name) ? 'name' : 'selector',
      };
      const grantedAt = grant.binding.spec.validFrom ?? grant.binding.metadata.creationTimestamp;
      if (grantedAt) item.grantedAt = grantedAt;
      const grantedBy = grant.approval.approvedBy ?? grant.binding.spec.requestedBy;
      if (grantedBy) item.grantedBy = grantedBy;
      if (decided) {
        item.decision = verdict.decision;
        item.decidedBy = verdict.decidedBy;
        const seen = review.status?.items?.find(
          (p) => p.user === item.user && p.binding === item.binding && p.decision === item.decision && p.decidedBy === item.decidedBy,
        );
        item.decidedAt = seen?.decidedAt ?? now.toISOString();
      }
      items.push(item);
    }
  }
  return items.sort((a, b) => a.user.localeCompare(b.user) || a.binding.localeCompare(b.binding));
}

function summary(items: readonly Item[]): string {
  const count = (decision: string) => items.filter((i) => i.decision === decision).length;
  return `${items.length} item(s), ${count('keep')} kept, ${count('revoke')} revoked, ${items.filter((i) => !i.decision).length} undecided`;
}
