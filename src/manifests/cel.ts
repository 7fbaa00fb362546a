// One compiled CEL program per rule text, run by @bufbuild/cel: the expression the API server
// evaluates from the CRD is the one evaluated here, never a TypeScript copy of it.
import { celEnv, isCelError, parse, plan, type CelInput } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';

export interface CelProgram {
  /** Rules that read oldSelf are transition rules: the API server runs them only on update. */
  transition: boolean;
  run(bindings: { self: CelInput; oldSelf?: CelInput }): { value: unknown } | { error: string };
}

// The standard library plus the string extensions Kubernetes enables (lowerAscii, split, ...).
// Kubernetes-only libraries (quantity, ip, url, lists, ...) are absent: a rule using one fails to
// evaluate, and says so, rather than passing unchecked.
const env = celEnv({ funcs: strings });
const programs = new Map<string, CelProgram>();

export function compile(expression: string): CelProgram {
  let program = programs.get(expression);
  if (!program) {
    program = build(expression);
    programs.set(expression, program);
  }
  return program;
}

function build(expression: string): CelProgram {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(expression);
  } catch (error) {
    const message = `does not compile: ${(error as Error).message}`;
    return { transition: false, run: () => ({ error: message }) };
  }
  const evaluate = plan(env, parsed);
  return {
    transition: mentions(parsed.expr, 'oldSelf'),
    run(bindings) {
      const result = evaluate(bindings as Record<string, CelInput>);
      return isCelError(result) ? { error: result.message } : { value: result };
    },
  };
}

/** Whether the syntax tree names the variable anywhere; protobuf-es messages are plain objects. */
function mentions(node: unknown, name: string): boolean {
  if (node === null || typeof node !== 'object') return false;
  const kind = node as { case?: unknown; value?: { name?: unknown } };
  if (kind.case === 'identExpr' && kind.value?.name === name) return true;
  return Object.values(node).some((child) => mentions(child, name));
}
