// The README and the docs stand alone: every link points at a file of this repository (or a heading
// of the same page), and every npm script they tell a reader to run exists.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const pages = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const scripts = Object.keys((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts);

const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\w\- ]/g, '')
    .replace(/ /g, '-');

describe.each(pages)('%s', (page) => {
  const text = readFileSync(join(ROOT, page), 'utf8');

  it('links only to files inside the repository, and to headings that exist', () => {
    const headings = new Set([...text.matchAll(/^#+ (.+)$/gm)].map((m) => slug(m[1]!)));
    const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
    for (const link of links) {
      if (/^[a-z]+:/.test(link)) continue; // an external URL is allowed, but none may be needed
      if (link.startsWith('#')) {
        expect(headings, `${page}: ${link}`).toContain(link.slice(1));
        continue;
      }
      const target = resolve(dirname(join(ROOT, page)), link.split('#')[0]!);
      expect(relative(ROOT, target).startsWith('..'), `${page}: ${link} leaves the repository`).toBe(false);
      expect(existsSync(target), `${page}: ${link}`).toBe(true);
    }
    expect(text).not.toMatch(/\.\.\/shared\//);
  });

  it('names only npm scripts that exist', () => {
    const named = [...text.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]!);
    for (const script of named) expect(scripts, `${page}: npm run ${script}`).toContain(script);
    for (const bare of [...text.matchAll(/`npm (start|test)\b/g)].map((m) => m[1]!)) expect(scripts).toContain(bare);
  });
});

it('no source comment points outside the repository', () => {
  const offenders: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|js|sh)$/.test(entry.name) && /\.\.\/shared\/|DESIGN\.md|STYLE\.md/.test(readFileSync(path, 'utf8'))) offenders.push(relative(ROOT, path));
    }
  };
  for (const dir of ['src', 'bin', 'bench', 'scripts']) walk(join(ROOT, dir));
  expect(offenders).toEqual([]);
});
