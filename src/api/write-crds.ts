// `npm run crds` writes crds/*.yaml and the chart's generated templates; `--check` exits 1 when
// any of them is stale. One source, the zod schemas of src/api: crds/ holds the CRDs alone (for
// whoever applies them without Helm, with the chart's crds.install false); the chart holds the same
// CRDs as templates, and the approval admission objects, which only the chart installs.
import { mkdirSync, readFileSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { CHART_HEADER, chartAdmissionTemplate, chartCrdTemplate } from './chart-templates.ts';
import { allCustomResourceDefinitions } from './crd.ts';

const HEADER = CHART_HEADER;

export function renderCrdFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const crd of allCustomResourceDefinitions()) {
    const name = (crd.metadata as { name: string }).name;
    files.set(`${name}.yaml`, HEADER + stringify(crd, { lineWidth: 0 }));
  }
  return files;
}

/** The approval admission policies, their bindings and the approver ClusterRole: a chart template. */
export const ADMISSION_FILE = 'admission-policies.yaml';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CRD_DIR = join(ROOT, 'crds');
export const CHART_TEMPLATE_DIR = join(ROOT, 'charts', 'rollcall', 'templates');
/** The chart's CRDs, as templates (a chart's crds/ folder is installed once and never upgraded). */
export const CHART_CRD_TEMPLATE_DIR = join(CHART_TEMPLATE_DIR, 'crds');

/** Every generated file: path → text. */
export function renderGenerated(): Map<string, string> {
  const out = new Map<string, string>();
  for (const [file, text] of renderCrdFiles()) out.set(join(CRD_DIR, file), text);
  for (const crd of allCustomResourceDefinitions())
    out.set(join(CHART_CRD_TEMPLATE_DIR, `${(crd.metadata as { name: string }).name}.yaml`), chartCrdTemplate(crd));
  out.set(join(CHART_TEMPLATE_DIR, ADMISSION_FILE), chartAdmissionTemplate());
  return out;
}

/** Generated files of the generated folders that are no longer generated (a removed kind). */
export function strayGenerated(generated: Map<string, string>): string[] {
  return [CRD_DIR, CHART_CRD_TEMPLATE_DIR].flatMap((dir) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return [];
    }
    return names.map((name) => join(dir, name)).filter((path) => !generated.has(path));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  let stale = 0;
  const generated = renderGenerated();
  for (const [path, text] of generated) {
    mkdirSync(dirname(path), { recursive: true });
    let current = '';
    try {
      current = readFileSync(path, 'utf8');
    } catch {
      // missing counts as stale
    }
    if (current === text) continue;
    stale++;
    if (check) console.error(`stale: ${path} (run npm run crds)`);
    else writeFileSync(path, text);
  }
  for (const path of strayGenerated(generated)) {
    stale++;
    if (check) console.error(`not generated: ${path} (run npm run crds)`);
    else unlinkSync(path);
  }
  if (check && stale > 0) process.exit(1);
  console.log(check ? 'crds/ and the chart are up to date' : `wrote ${stale} file(s) in crds/ and the chart`);
}
