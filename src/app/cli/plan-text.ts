/** A plan as the terminal shows it: the summary, what was not checked, and every problem. */
import type { BatchPlan } from '../plan';

const n = (value: number) => value.toLocaleString('en-US');

/** `95` → `1 h 35 min`, `4000` → `2 days 18 h`. */
export function durationText(minutes: number): string {
  const m = Math.round(minutes);
  if (m < 60) return `${m} min`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return `${hours} h${m % 60 ? ` ${m % 60} min` : ''}`;
  return `${Math.floor(hours / 24)} days${hours % 24 ? ` ${hours % 24} h` : ''}`;
}

function backendLines(plan: BatchPlan): string[] {
  return plan.backends.map((b) => {
    const checked = b.checked.length > 0 ? `; checked: ${b.checked.join(', ')}` : '';
    return `    ${b.name} (${b.url}): ${n(b.tiles)} tiles, ${b.rounds} rounds of up to ${b.parallelJobs} jobs${checked}`;
  });
}

function costLines(costs: NonNullable<BatchPlan['costs']>): string[] {
  const lines = [
    `  costs:    ${costs.projected !== undefined ? `about ${n(costs.projected)} credits: ` : ''}${costs.how}`,
  ];
  const { budget } = costs;
  if (budget) {
    const limits = [
      ...(budget.credits !== undefined ? [`${n(budget.credits)} credits`] : []),
      ...Object.entries(budget.backends ?? {}).map(([name, credits]) => `${name}: ${n(credits)} credits`),
    ];
    lines.push(
      `  budget:   ${limits.join(', ')}; no job starts that would pass it (raise it with \`openeo-temporal budget\`)`,
    );
  }
  return lines;
}

function summaryLines(plan: BatchPlan, tilesFile?: string): string[] {
  const lines: string[] = [];
  if (plan.totalTiles === undefined) lines.push('  tiles:    cannot be derived (see the problems)');
  else
    lines.push(
      `  tiles:    ${n(plan.totalTiles)} (maxTiles ${n(plan.maxTiles)})${plan.areaKm2 !== undefined ? `, covering ${n(Math.round(plan.areaKm2 * 10) / 10)} km²` : ''}`,
    );
  if (plan.periods) {
    const { places, periods, first, last } = plan.periods;
    lines.push(
      `  periods:  ${n(places)} places × ${n(periods)} periods (${first}${periods > 1 ? ` … ${last}` : ''}): ${n(places)} jobs per period`,
    );
  }
  if (plan.jobs)
    lines.push(
      `  jobs:     ${n(plan.jobs.expected)} openEO jobs, up to ${n(plan.jobs.atMost)} if jobs fail and run again`,
    );
  if (plan.backends.length > 0) lines.push('  backends:', ...backendLines(plan));
  if (plan.estimate) {
    const time = plan.estimate.minutes !== undefined ? `about ${durationText(plan.estimate.minutes)}: ` : '';
    lines.push(
      `  duration: ${time}${plan.estimate.how}${plan.estimate.minutes === undefined ? ' (--job-minutes)' : ''}`,
    );
  }
  if (plan.costs) lines.push(...costLines(plan.costs));
  if (tilesFile) lines.push(`  tiles written to ${tilesFile} (GeoJSON, EPSG:4326, with each tile's backend)`);
  else if (plan.tiles) lines.push('  write the tiles with --tiles-out tiles.geojson');
  return lines;
}

/** The whole plan as text; `specPath` goes into the command that would start it. */
export function planText(plan: BatchPlan, specPath: string, tilesFile?: string): string {
  const lines = [`plan of batch ${plan.batchId ?? '(no batchId)'}`, ...summaryLines(plan, tilesFile)];
  if (plan.unchecked.length > 0) lines.push('  not checked:', ...plan.unchecked.map((u) => `    - ${u}`));
  if (plan.ok) {
    lines.push(`no problems found: \`openeo-temporal start ${specPath}\` starts it`);
  } else {
    lines.push(`${plan.problems.length} problem(s); \`start\` would refuse this batch:`);
    lines.push(...plan.problems.map((p) => `  - ${p.field}: ${p.problem}${p.fix ? `: ${p.fix}` : ''}`));
  }
  return lines.join('\n');
}
