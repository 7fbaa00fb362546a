// Entry point for `npm run bench -- --scale [--users N] [--systems ldap,postgres,scim] [--converge-timeout S]
// [--phases sequential,burst,expiry,idle,drift,standalone]` (the phases after convergence; all by default, none with '').
// Exit status 1 when a row failed (a system not holding what is declared, a phase that broke);
// targets missed are printed, not failed.
import { parseScaleOptions, scaleBenchmark } from './index.ts';
import { rows } from './report.ts';

export async function runScale(args: string[]): Promise<number> {
  const options = parseScaleOptions(args.filter((a) => a !== '--scale'));
  const results = await scaleBenchmark(options);
  const table = rows(results);
  const width = Math.max(...table.map((r) => r.figure.length));
  for (const row of table) {
    process.stdout.write(
      `${row.section.padEnd(18)} ${row.figure.padEnd(width)}  ${row.value.padStart(14)}  ${row.target ? `(target ${row.target})` : ''} ${row.verdict}\n`,
    );
  }
  return table.some((row) => row.verdict === 'FAILED') ? 1 : 0;
}
