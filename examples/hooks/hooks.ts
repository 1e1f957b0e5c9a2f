/**
 * The example hooks, as a module for `openeo-temporal worker --hooks dist/examples/hooks/hooks.js`:
 * the module exports `jobFactories` and `postprocessors` by the names specs use.
 */
import { s1s2 } from './s1s2-factory';
import { tileStatistics } from './tile-statistics';

export const jobFactories = { s1s2 };
export const postprocessors = { stats: tileStatistics };
