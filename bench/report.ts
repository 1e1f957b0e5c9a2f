/**
 * The benchmark's output: one human-readable line per figure as it is measured, PASS/MISS per
 * target, and at the end one JSON object with everything (for scripts and CI logs).
 */

export type FigureValue = number | string | boolean | null | FigureValue[] | { [key: string]: FigureValue };

export interface TargetResult {
  target: string;
  /** `skipped` when the scenario it needs did not run (or failed before measuring). */
  result: 'PASS' | 'MISS' | 'SKIPPED';
  detail: string;
}

export class Report {
  readonly figures: Record<string, FigureValue> = {};
  readonly targets: TargetResult[] = [];
  readonly notes: string[] = [];

  constructor(private readonly print: (line: string) => void = (line) => console.log(line)) {}

  /** Records `key` in the JSON and prints `label: value unit`. */
  figure(key: string, label: string, value: FigureValue, unit = ''): void {
    this.figures[key] = value;
    const shown =
      typeof value === 'number'
        ? formatNumber(value)
        : typeof value === 'object' && value !== null
          ? JSON.stringify(value)
          : String(value);
    this.print(`  ${label}: ${shown}${unit ? ` ${unit}` : ''}`);
  }

  /** A remark that belongs with the figures (settings used, diagnoses). */
  note(text: string): void {
    this.notes.push(text);
    this.print(`  note: ${text}`);
  }

  target(target: string, pass: boolean | undefined, detail: string): void {
    const result = pass === undefined ? 'SKIPPED' : pass ? 'PASS' : 'MISS';
    this.targets.push({ target, result, detail });
    this.print(`${result.padEnd(7)} ${target}: ${detail}`);
  }

  json(extra: Record<string, FigureValue> = {}): string {
    return JSON.stringify({
      ...extra,
      figures: this.figures,
      targets: this.targets as unknown as FigureValue,
      notes: this.notes,
    });
  }
}

function formatNumber(n: number): string {
  if (Number.isInteger(n)) return n.toLocaleString('en-US');
  return n.toLocaleString('en-US', { maximumFractionDigits: Math.abs(n) < 10 ? 3 : 1 });
}

export const MB = 1024 * 1024;
