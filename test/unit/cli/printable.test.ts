// Names from manifests and systems cannot forge or repaint console output.
import { describe, expect, it } from 'vitest';
import { printable } from '../../../src/api/index.ts';
import { describeChange } from '../../../src/api/describe-change.ts';

describe('printable', () => {
  it.each([
    ['plain', 'plain'],
    ['x\n  mallory pg create account (forged), grant postgres', 'x\\n  mallory pg create account (forged), grant postgres'],
    ['bell\u0007 and escape \u001b[2J', 'bell\\u0007 and escape \\u001b[2J'],
    ['tab\tand\rreturn', 'tab\\tand\\rreturn'],
    ['right-to-left \u202eevil', 'right-to-left \\u202eevil'],
    ['zero\u200bwidth', 'zero\\u200bwidth'],
    ['ünïcödé ａdmins', 'ünïcödé ａdmins'],
  ])('%j', (input, shown) => {
    expect(printable(input)).toBe(shown);
  });

  it('a forged entitlement stays on its line in a described change', () => {
    const text = describeChange({ op: 'grant', userName: 'bob', entitlement: 'x\n  mallory   pg   create account (forged)' });
    expect(text.split('\n')).toHaveLength(1);
    expect(text).toBe('grant x\\n  mallory   pg   create account (forged)');
  });
});
