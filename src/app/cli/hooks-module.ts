/**
 * `worker --hooks <module>`: the users' hooks for the ready-made worker, from a JavaScript module
 * (CommonJS or ES) that exports `jobFactories` and/or `postprocessors`.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { OpenEOPluginOptions } from '../plugin';

type Hooks = Pick<OpenEOPluginOptions, 'jobFactories' | 'postprocessors'>;

function registry(module: Record<string, unknown>, key: keyof Hooks, path: string): Record<string, never> | undefined {
  const value = module[key];
  if (value === undefined) return undefined;
  const ok =
    typeof value === 'object' && value !== null && Object.values(value).every((hook) => typeof hook === 'function');
  if (!ok)
    throw new Error(
      `--hooks ${path}: "${key}" must be an object of functions by name, e.g. { s1s2: async (tile, context) => … }`,
    );
  return value as Record<string, never>;
}

export async function loadHooksModule(path: string): Promise<Hooks> {
  const absolute = resolve(path);
  let module: Record<string, unknown>;
  try {
    // The module is the user's own code, named on the command line; its exports are checked below.
    module = (await import(pathToFileURL(absolute).href)) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`--hooks ${path}: cannot load ${absolute} (${err instanceof Error ? err.message : String(err)})`, {
      cause: err,
    });
  }
  // A CommonJS module whose exports Node could not name statically has them under `default`.
  if (
    !('jobFactories' in module) &&
    !('postprocessors' in module) &&
    typeof module.default === 'object' &&
    module.default !== null
  ) {
    module = module.default as Record<string, unknown>;
  }
  const hooks: Hooks = {
    jobFactories: registry(module, 'jobFactories', path),
    postprocessors: registry(module, 'postprocessors', path),
  };
  if (!hooks.jobFactories && !hooks.postprocessors)
    throw new Error(`--hooks ${path}: the module exports neither "jobFactories" nor "postprocessors"`);
  return hooks;
}
