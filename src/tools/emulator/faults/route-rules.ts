/**
 * Picks the fault (if any) for one request: matches route patterns against
 * the route key and runs each rule's counters and seeded random stream.
 */
import { API_PREFIX } from '../constants';
import { SeededRandom } from '../random';
import type { FaultAction, RouteFaultRule } from './config';

/** Runtime state of one rule, persisted so a restart continues the same sequence. */
export interface RouteRuleState {
  /** Matching calls seen. */
  calls: number;
  /** Times the rule fired. */
  fired: number;
  /** State of the rule's random stream. */
  random: number;
}

/** Turns a pattern into a test of route keys (`GET /openeo/1.2/jobs/{job_id}`). */
export function compileRoutePattern(pattern: string): (routeKey: string) => boolean {
  if (pattern === '*') return () => true;
  const space = pattern.indexOf(' ');
  const method = pattern.slice(0, space);
  let path = pattern.slice(space + 1);
  // Paths are relative to the API root unless they name another root explicitly.
  if (!path.startsWith('/openeo/') && !path.startsWith('/.well-known/')) path = `${API_PREFIX}${path}`;
  const escape = (text: string) => text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  const methodPart = method === '*' ? '[A-Z]+' : escape(method);
  const pathPart = path.split('*').map(escape).join('.*');
  const regex = new RegExp(`^${methodPart} ${pathPart}$`);
  return (routeKey) => regex.test(routeKey);
}

interface CompiledRule {
  rule: RouteFaultRule;
  matches: (routeKey: string) => boolean;
  random: SeededRandom;
  calls: number;
  fired: number;
}

/** The route rules of one fault configuration. */
export class RouteFaultSelector {
  private readonly rules: CompiledRule[];

  constructor(rules: readonly RouteFaultRule[], seed: number) {
    this.rules = rules.map((rule, index) => ({
      rule,
      matches: compileRoutePattern(rule.route),
      // One stream per rule: adding a rule does not shift the draws of the others.
      random: new SeededRandom(seed, index + 1),
      calls: 0,
      fired: 0,
    }));
  }

  /**
   * Advances every matching rule (so each rule's sequence only depends on its
   * own matching calls) and returns the fault of the first rule that fires.
   */
  pick(routeKey: string): FaultAction | null {
    let picked: FaultAction | null = null;
    for (const compiled of this.rules) {
      if (!compiled.matches(routeKey)) continue;
      compiled.calls += 1;
      const { rule, calls } = compiled;
      // Always draw when a probability is set, even if another selector already fired.
      const byChance = rule.probability !== undefined && compiled.random.next() < rule.probability;
      const byCount =
        (rule.everyNth !== undefined && calls % rule.everyNth === 0) || (rule.onCalls?.includes(calls) ?? false);
      const unconditional = rule.probability === undefined && rule.everyNth === undefined && rule.onCalls === undefined;
      const withinLimit = rule.maxTimes === undefined || compiled.fired < rule.maxTimes;
      if ((byChance || byCount || unconditional) && withinLimit && picked === null) {
        compiled.fired += 1;
        picked = rule.fault;
      }
    }
    return picked;
  }

  /** Counters and random states, rule by rule. */
  exportState(): RouteRuleState[] {
    return this.rules.map((r) => ({ calls: r.calls, fired: r.fired, random: r.random.state }));
  }

  /** Restores {@link exportState} output of the same rules. */
  importState(states: readonly RouteRuleState[]): void {
    states.slice(0, this.rules.length).forEach((state, i) => {
      this.rules[i].calls = state.calls;
      this.rules[i].fired = state.fired;
      this.rules[i].random.state = state.random;
    });
  }
}
