// Where in the file a field of a manifest is, so an error says the line to fix, as an editor would
// show it. The field is named the way errors.ts names it (spec.grants[0].system).
import { isNode, type Document, type LineCounter } from 'yaml';

/** The path spec.grants[0].system as keys and indexes. Keys with dots cannot be told apart; the nearest enclosing node found then gives the line. */
function pathOf(field: string): Array<string | number> {
  const path: Array<string | number> = [];
  for (const part of field.split('.')) {
    const [key, ...indexes] = part.split('[');
    if (key) path.push(key);
    for (const index of indexes) path.push(Number(index.replace(']', '')));
  }
  return path;
}

/**
 * The 1-based line of `field` in the document (`item` inside a kind: List), or of the deepest
 * enclosing node found there; the document's first line for a field that is absent (a required one).
 */
export function lineOfField(doc: Document, lines: LineCounter, item: number | undefined, field: string): number | undefined {
  const path = [...(item === undefined ? [] : ['items', item]), ...(field ? pathOf(field) : [])];
  for (let length = path.length; length >= 0; length--) {
    const node: unknown = length === 0 ? doc.contents : doc.getIn(path.slice(0, length), true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
  }
  return undefined;
}
