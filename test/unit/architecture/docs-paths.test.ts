// The docs name files and folders that exist: every path in backticks in the README and docs/ is in
// the tree, and docs/architecture.md's layout lists exactly src/'s folders. A move that forgets the
// docs fails here.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../../..');
const DOCS = [
  'README.md',
  'test/faults/README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
/** Paths the docs name on purpose although they are gone (an upgrade note says so). */
const GONE = new Set(['crds/rollcall-approvals.admission.yaml']);
const SRC_FOLDERS = readdirSync(join(ROOT, 'src'), { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name);

/** `path` in backticks: from the root (src/, test/, ...), or from src/ (`controllers/manager.ts`). */
function namedPaths(text: string): string[] {
  const fromRoot = [...text.matchAll(/`((?:src|test|docs|scripts|bench|charts|crds|examples)\/[A-Za-z0-9_./-]+)`/g)].map((m) => m[1]!.replace(/[/.]+$/, ''));
  const fromSrc = [...text.matchAll(new RegExp(`\`((?:${SRC_FOLDERS.join('|')})/[A-Za-z0-9_./-]+\\.ts)`, 'g'))].map((m) => `src/${m[1]!}`);
  return [...fromRoot, ...fromSrc];
}

describe('the docs name what exists', () => {
  it.each(DOCS)('%s: every path in backticks is in the tree', (doc) => {
    const paths = namedPaths(readFileSync(join(ROOT, doc), 'utf8'));
    expect(paths.filter((path) => !GONE.has(path) && !existsSync(join(ROOT, path)))).toEqual([]);
  });

  it('reads the paths the docs name (well over a hundred)', () => {
    expect(DOCS.flatMap((doc) => namedPaths(readFileSync(join(ROOT, doc), 'utf8'))).length).toBeGreaterThan(100);
  });

  it("docs/architecture.md's layout lists exactly src/'s folders", () => {
    const text = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
    const layout = text.slice(text.indexOf('## Layout and import direction'));
    const block = layout.slice(layout.indexOf('```') + 3, layout.indexOf('```', layout.indexOf('```') + 3));
    const listed = [...block.matchAll(/^src\/([a-z-]+)\//gm)].map((m) => m[1]!);
    expect([...listed].sort()).toEqual([...SRC_FOLDERS].sort());
  });
});
