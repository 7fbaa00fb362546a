// The ValidatingAdmissionPolicy that makes approvals of AccessBindings the API server's business:
// the requester is whoever created the binding, an approval is written only by the approver
// themself, who holds the RBAC verb `approve` on accessbindings, is neither the requester nor a
// subject, and approves exactly the binding as it stands (spec.approval.scope). The engine
// (src/engine/approval.ts) voids an approval whose scope no longer matches, so an edit after
// approval takes the access away until someone approves again. A second policy makes a binding of a
// role that requires approval record its requester. Approver, requester and subjects are compared as
// people, the rule of src/engine/identity.ts: lower-case, up to the first "@" (the API server may
// authenticate carol as carol@example.org); a third policy reads the Users a binding names as
// parameters to compare their userNames and e-mails too.
import { API_VERSION, GROUP } from './common.ts';

type Json = Record<string, unknown>;

export const APPROVAL_POLICY_NAME = 'accessbindings-approval.rollcall.dev';
/** The custom RBAC verb an approver needs on accessbindings (and, for decisions, on accessreviews). */
export const APPROVE_VERB = 'approve';

const labels = { 'app.kubernetes.io/name': 'rollcall', 'app.kubernetes.io/part-of': 'rollcall' };

/** The same optional field in two objects: both absent, or both present and equal. */
const sameOptional = (a: string, b: string, field: string) =>
  `(has(${a}.${field}) == has(${b}.${field}) && (!has(${a}.${field}) || ${a}.${field} == ${b}.${field}))`;

/** The CEL twin of personKey() (src/engine/identity.ts): lower-case, before the first "@". */
const personKey = (expression: string) => `${expression}.lowerAscii().split('@')[0]`;

const scopeMatches = ['users', 'userSelector', 'validFrom', 'validUntil'].reduce(
  (rule, field) => `${rule} && ${sameOptional('object.spec.approval.scope', 'object.spec', field)}`,
  'object.spec.approval.scope.role == object.spec.role',
);

export function approvalPolicy(): Json {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name: APPROVAL_POLICY_NAME, labels },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: {
        resourceRules: [{ apiGroups: [GROUP], apiVersions: ['*'], operations: ['CREATE', 'UPDATE'], resources: ['accessbindings'] }],
      },
      variables: [
        {
          name: 'approvalWritten',
          expression:
            "has(object.spec.approval) && (request.operation == 'CREATE' || !has(oldObject.spec.approval) || object.spec.approval != oldObject.spec.approval)",
        },
        { name: 'approver', expression: personKey('request.userInfo.username') },
      ],
      validations: [
        {
          expression: "request.operation != 'CREATE' || !has(object.spec.requestedBy) || object.spec.requestedBy == request.userInfo.username",
          messageExpression: "'spec.requestedBy must be your own user name, ' + request.userInfo.username",
          reason: 'Forbidden',
        },
        {
          expression: `request.operation != 'UPDATE' || ${sameOptional('object.spec', 'oldObject.spec', 'requestedBy')}`,
          message: 'spec.requestedBy cannot change: it records who created the binding',
          reason: 'Forbidden',
        },
        {
          expression: '!variables.approvalWritten || object.spec.approval.approvedBy == request.userInfo.username',
          messageExpression: "'spec.approval.approvedBy must be your own user name, ' + request.userInfo.username + ': an approval is given by the approver'",
          reason: 'Forbidden',
        },
        {
          expression: '!variables.approvalWritten || has(object.spec.requestedBy)',
          message: 'a binding without spec.requestedBy cannot be approved: create it again with spec.requestedBy set to the requester',
          reason: 'Forbidden',
        },
        {
          expression: `!variables.approvalWritten || variables.approver != ${personKey('object.spec.requestedBy')}`,
          messageExpression:
            "'the requester cannot approve their own binding: ' + request.userInfo.username + ' and spec.requestedBy ' + object.spec.requestedBy + ' are the same person (compared lower-case, up to the first @)'",
          reason: 'Forbidden',
        },
        {
          // User names are DNS names (lower-case, no "@"): each is its own person key.
          expression: '!variables.approvalWritten || !has(object.spec.users) || !(variables.approver in object.spec.users)',
          messageExpression: "'a subject of the binding cannot approve their own access: ' + request.userInfo.username + ' is named in spec.users'",
          reason: 'Forbidden',
        },
        {
          expression: '!variables.approvalWritten || has(object.spec.approval.digest)',
          message:
            "spec.approval.digest is required: the sha256 of the content approved (the role's entitlements and maxDuration, the Users selected); kubectl rollcall approve computes it from what it shows",
          reason: 'Invalid',
        },
        {
          expression: `!variables.approvalWritten || authorizer.group('${GROUP}').resource('accessbindings').namespace(object.metadata.namespace).name(object.metadata.name).check('${APPROVE_VERB}').allowed()`,
          messageExpression: `request.userInfo.username + ' may not approve: approving needs the RBAC verb ${APPROVE_VERB} on accessbindings.${GROUP}'`,
          reason: 'Forbidden',
        },
        {
          expression: `!variables.approvalWritten || (${scopeMatches})`,
          message: 'spec.approval.scope must equal the binding as approved: role, users, userSelector, validFrom and validUntil',
          reason: 'Invalid',
        },
      ],
    },
  };
}

export function approvalPolicyBinding(): Json {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: { name: APPROVAL_POLICY_NAME, labels },
    spec: { policyName: APPROVAL_POLICY_NAME, validationActions: ['Deny'] },
  };
}

export const SUBJECTS_POLICY_NAME = 'accessbindings-approver-subjects.rollcall.dev';

/**
 * An approver is not one of the Users the binding names, in any of their names: the User's object
 * name (checked by the approval policy), its userName and its e-mail. The binding's admission sees
 * the namespace's Users as parameters (each one evaluated; only a User the binding names can
 * refuse). A User reached only through a userSelector is left to the engine, which gives an
 * approver no access from their own approval.
 */
export function subjectsPolicy(): Json {
  const names = ['params.spec.userName', 'params.spec.email', "params.spec.attributes['email']"];
  const present = ['true', 'has(params.spec.email)', "has(params.spec.attributes) && 'email' in params.spec.attributes"];
  const differs = names.map((name, i) => `(!(${present[i]}) || ${personKey(name)} != variables.approver)`).join(' && ');
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name: SUBJECTS_POLICY_NAME, labels },
    spec: {
      // Ignore, not Fail: this policy reads every User of the namespace as a parameter, and while the
      // API server cannot resolve that kind (seen in the e2e run: "failed to find resource referenced
      // by paramKind") Fail refused every AccessBinding of the cluster, approval or not. The engine
      // refuses an approver who is a subject all the same (engine/identity.ts), so access never
      // flows from such an approval; this policy only says it earlier.
      failurePolicy: 'Ignore',
      paramKind: { apiVersion: API_VERSION, kind: 'User' },
      matchConstraints: {
        resourceRules: [{ apiGroups: [GROUP], apiVersions: ['*'], operations: ['CREATE', 'UPDATE'], resources: ['accessbindings'] }],
      },
      variables: [
        {
          name: 'named',
          expression:
            "has(object.spec.approval) && (request.operation == 'CREATE' || !has(oldObject.spec.approval) || object.spec.approval != oldObject.spec.approval) && has(object.spec.users) && params.metadata.name in object.spec.users",
        },
        { name: 'approver', expression: personKey('request.userInfo.username') },
      ],
      validations: [
        {
          expression: `!variables.named || (${differs})`,
          messageExpression:
            "'a subject of the binding cannot approve their own access: ' + request.userInfo.username + ' is User ' + params.metadata.name + ' (userName ' + params.spec.userName + (has(params.spec.email) ? ', e-mail ' + params.spec.email : '') + '), named in spec.users; names are compared lower-case, up to the first @'",
          reason: 'Forbidden',
        },
      ],
    },
  };
}

/** Every User of the binding's own namespace; none at all admits the binding. */
export function subjectsPolicyBinding(): Json {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: { name: SUBJECTS_POLICY_NAME, labels },
    spec: { policyName: SUBJECTS_POLICY_NAME, validationActions: ['Deny'], paramRef: { selector: {}, parameterNotFoundAction: 'Allow' } },
  };
}

export const REQUESTER_POLICY_NAME = 'accessbindings-requester.rollcall.dev';

/**
 * A binding of a role that requires approval records its requester: on create, spec.requestedBy
 * must be there (the approval policy checks it is the requester's own name); an update that moves a
 * binding without it onto such a role is refused too, as requestedBy cannot be added later. The
 * binding's admission sees its role as a parameter: the policy binding selects every AccessRole of
 * the binding's namespace, each one is evaluated, and only the one the binding names can refuse.
 * A role that only inherits requiresApproval through `includes`, or gains it after the binding was
 * made, is not seen here: such a binding stays unapprovable (the approval policy says why) until it
 * is created again with spec.requestedBy.
 */
export function requesterPolicy(): Json {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name: REQUESTER_POLICY_NAME, labels },
    spec: {
      failurePolicy: 'Fail',
      paramKind: { apiVersion: API_VERSION, kind: 'AccessRole' },
      matchConstraints: {
        resourceRules: [{ apiGroups: [GROUP], apiVersions: ['*'], operations: ['CREATE', 'UPDATE'], resources: ['accessbindings'] }],
      },
      variables: [
        {
          name: 'gated',
          expression:
            "params.metadata.name == object.spec.role && has(params.spec.requiresApproval) && params.spec.requiresApproval && (request.operation == 'CREATE' || object.spec.role != oldObject.spec.role)",
        },
      ],
      validations: [
        {
          expression: '!variables.gated || has(object.spec.requestedBy)',
          messageExpression:
            "'AccessRole ' + params.metadata.name + ' requires approval, so a binding to it must record its requester: create it with spec.requestedBy set to your own user name, ' + request.userInfo.username",
          reason: 'Forbidden',
        },
      ],
    },
  };
}

/** Every AccessRole of the binding's own namespace (paramRef.namespace unset); none at all admits the binding. */
export function requesterPolicyBinding(): Json {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: { name: REQUESTER_POLICY_NAME, labels },
    spec: { policyName: REQUESTER_POLICY_NAME, validationActions: ['Deny'], paramRef: { selector: {}, parameterNotFoundAction: 'Allow' } },
  };
}

export const REVIEW_POLICY_NAME = 'accessreviews-decisions.rollcall.dev';

/**
 * Decisions of an AccessReview: appended only, each by the reviewer themself, who is listed in
 * spec.reviewers, holds the verb approve on accessreviews, and is not deciding on their own access.
 */
export function reviewPolicy(): Json {
  const isNew = "request.operation == 'CREATE' || !has(oldObject.spec.decisions) || !(d in oldObject.spec.decisions)";
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name: REVIEW_POLICY_NAME, labels },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: {
        resourceRules: [{ apiGroups: [GROUP], apiVersions: ['*'], operations: ['CREATE', 'UPDATE'], resources: ['accessreviews'] }],
      },
      variables: [{ name: 'newDecisions', expression: `has(object.spec.decisions) ? object.spec.decisions.filter(d, ${isNew}) : []` }],
      validations: [
        {
          expression:
            "request.operation != 'UPDATE' || !has(oldObject.spec.decisions) || oldObject.spec.decisions.all(d, has(object.spec.decisions) && d in object.spec.decisions)",
          message: 'spec.decisions are never changed or removed: append a decision instead',
          reason: 'Forbidden',
        },
        {
          expression: 'variables.newDecisions.all(d, d.decidedBy == request.userInfo.username)',
          messageExpression: "'spec.decisions[].decidedBy must be your own user name, ' + request.userInfo.username",
          reason: 'Forbidden',
        },
        {
          expression: 'variables.newDecisions.all(d, d.decidedBy in object.spec.reviewers)',
          message: 'only a reviewer listed in spec.reviewers can decide',
          reason: 'Forbidden',
        },
        {
          expression: 'variables.newDecisions.all(d, d.user != request.userInfo.username)',
          message: 'a reviewer cannot decide on their own access',
          reason: 'Forbidden',
        },
        {
          expression: `size(variables.newDecisions) == 0 || authorizer.group('${GROUP}').resource('accessreviews').namespace(object.metadata.namespace).name(object.metadata.name).check('${APPROVE_VERB}').allowed()`,
          messageExpression: `request.userInfo.username + ' may not decide: deciding needs the RBAC verb ${APPROVE_VERB} on accessreviews.${GROUP}'`,
          reason: 'Forbidden',
        },
      ],
    },
  };
}

/**
 * A ClusterRole to bind to approvers (with a RoleBinding per namespace, or cluster-wide). An
 * approver reads the roles and Users too: an approval pins the content it saw (the role's
 * entitlements, the Users selected), so kubectl rollcall approve must be able to show it.
 */
export function approverClusterRole(): Json {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'rollcall-approver', labels },
    rules: [
      { apiGroups: [GROUP], resources: ['accessbindings', 'accessreviews'], verbs: ['get', 'list', 'watch', 'patch', 'update', APPROVE_VERB] },
      { apiGroups: [GROUP], resources: ['accessroles', 'users'], verbs: ['get', 'list', 'watch'] },
    ],
  };
}

export function admissionObjects(): Json[] {
  const bindingOf = (policyName: string) => ({
    ...approvalPolicyBinding(),
    metadata: { name: policyName, labels },
    spec: { policyName, validationActions: ['Deny'] },
  });
  return [
    approvalPolicy(),
    bindingOf(APPROVAL_POLICY_NAME),
    requesterPolicy(),
    requesterPolicyBinding(),
    subjectsPolicy(),
    subjectsPolicyBinding(),
    reviewPolicy(),
    bindingOf(REVIEW_POLICY_NAME),
    approverClusterRole(),
  ];
}
