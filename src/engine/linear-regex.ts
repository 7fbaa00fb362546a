// Regular expressions written by a tenant (a source mapping's regexReplace, a system's glob) run in
// the one process that serves every tenant. JavaScript's engine backtracks: `^(a+)+$` on a
// 32-character value held the event loop for seconds. RE2 (re2js) matches in time linear in the
// input, and refuses what it cannot do in linear time (backreferences, lookaround) at compile time.
import { RE2JS } from 're2js';

/** A pattern RE2 refuses; the message says why (e.g. `invalid escape sequence: \1`). */
export class PatternError extends Error {}

/** Compiled patterns are kept; the bound only protects against a spec that changes its pattern forever. */
const MAX_CACHED = 1000;
const compiled = new Map<string, RE2JS>();

/** The pattern compiled once (per pattern and flags) by the linear-time engine; throws PatternError. */
export function linearRegex(pattern: string, flags = 0): RE2JS {
  const key = `${flags}/${pattern}`;
  let re = compiled.get(key);
  if (!re) {
    try {
      re = RE2JS.compile(pattern, flags);
    } catch (error) {
      throw new PatternError((error as Error).message.replace(/^error parsing regexp: /, ''));
    }
    if (compiled.size >= MAX_CACHED) compiled.delete(compiled.keys().next().value!);
    compiled.set(key, re);
  }
  return re;
}

/** Why RE2 refuses the pattern, or undefined when it compiles. */
export function patternProblem(pattern: string): string | undefined {
  try {
    linearRegex(pattern);
    return undefined;
  } catch (error) {
    return `${(error as Error).message} (patterns use RE2 syntax: no backreferences or lookaround)`;
  }
}

/**
 * Every match replaced, as String.prototype.replace with a global pattern does: `$1`, `$<name>`,
 * `$&` and `$$` in the replacement mean what they mean there.
 */
export function replaceAllLinear(value: string, pattern: string, replacement: string): string {
  return linearRegex(pattern).matcher(value).replaceAll(replacement);
}

/** The whole value matches the pattern (which the caller anchors itself), dot matching newlines too. */
export function matchesLinear(value: string, pattern: string): boolean {
  return linearRegex(pattern, RE2JS.DOTALL).matcher(value).matches();
}
