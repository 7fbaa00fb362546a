// Names and values come from manifests, HR feeds and remote systems: a newline or an escape
// sequence in one must not forge a line of output or repaint a terminal. Everything shown to a
// person (CLI lines, Event messages) goes through this; JSON output and logs escape on their own.

// C0 and C1 controls, DEL, zero-width and bidirectional-override characters.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/gu;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** The text with every control or invisible formatting character shown as an escape (\n, \u001b). */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (char) => NAMED[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
