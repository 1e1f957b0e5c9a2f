import { spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { withFileLock } from './file-lock';

/**
 * Pinned Temporal CLI release (it bundles dev server 1.29.1 and web UI 2.42.1).
 * It is the newest tag that `go install …@version` can still build; later ones fail to install that way.
 */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';

/** Go package that `go install` builds into the `temporal` binary. */
export const TEMPORAL_CLI_GO_PACKAGE = 'github.com/temporalio/cli/cmd/temporal';

/**
 * Go toolchain requested (through the Go module proxy) when the installed Go is too old
 * for the CLI's go.mod (`go 1.25.0`). Only Go ≥ 1.21 knows how to switch toolchains.
 */
export const FALLBACK_GO_TOOLCHAIN = 'go1.25.0';

/** Options shared by {@link findTemporalCli} and {@link ensureTemporalCli}. */
export interface TemporalCliOptions {
  /** Receives progress lines (a build prints a few hundred). @default ignore them */
  log?: (line: string) => void;
  /** Environment to read TEMPORAL_CLI_PATH, OPENEO_TEMPORAL_CACHE_DIR, PATH, … from. @default process.env */
  env?: NodeJS.ProcessEnv;
}

const BINARY_NAME = process.platform === 'win32' ? 'temporal.exe' : 'temporal';

/**
 * Per-user cache directory for things built once and shared by all checkouts:
 * `$OPENEO_TEMPORAL_CACHE_DIR`, else `${XDG_CACHE_HOME:-$HOME/.cache}/openeo-temporal`.
 * It lives outside the repository so that `git clean` does not cost a rebuild.
 */
export function temporalCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.OPENEO_TEMPORAL_CACHE_DIR) return path.resolve(env.OPENEO_TEMPORAL_CACHE_DIR);
  const cacheHome = env.XDG_CACHE_HOME || path.join(env.HOME || homedir(), '.cache');
  return path.join(cacheHome, 'openeo-temporal');
}

/** Where {@link ensureTemporalCli} puts (and first looks for) the binary it builds. */
export function cachedTemporalCliPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(temporalCacheDir(env), 'bin', BINARY_NAME);
}

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findOnPath(env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, BINARY_NAME);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Looks for an existing `temporal` binary without building anything. Order:
 * `$TEMPORAL_CLI_PATH`, the cache ({@link cachedTemporalCliPath}), then `temporal` on PATH.
 * @returns the binary's path, or undefined when none was found.
 * @throws when TEMPORAL_CLI_PATH is set but does not point to an executable file,
 *   because silently falling back would hide a misconfiguration.
 */
export function findTemporalCli(options: TemporalCliOptions = {}): string | undefined {
  const env = options.env ?? process.env;
  const explicit = env.TEMPORAL_CLI_PATH;
  if (explicit) {
    const resolved = path.resolve(explicit);
    if (!isExecutableFile(resolved)) {
      throw new Error(
        `TEMPORAL_CLI_PATH is set to "${explicit}", which is not an executable file. ` +
          `Point TEMPORAL_CLI_PATH at a Temporal CLI binary (e.g. chmod +x it), or unset it ` +
          `to use ${cachedTemporalCliPath(env)} (built automatically when missing).`,
      );
    }
    return resolved;
  }
  const cached = cachedTemporalCliPath(env);
  if (isExecutableFile(cached)) return cached;
  return findOnPath(env);
}

/**
 * Returns a usable `temporal` binary, building it from Go modules the first time
 * (`go install github.com/temporalio/cli/cmd/temporal@v1.5.1`, a few minutes).
 * Prebuilt release binaries are never downloaded: only the Go module proxy is reachable
 * on the machines this project targets. Concurrent callers build once; the others wait.
 */
export async function ensureTemporalCli(options: TemporalCliOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => {});
  const found = findTemporalCli(options);
  if (found) return found;

  const binDir = path.dirname(cachedTemporalCliPath(env));
  await mkdir(binDir, { recursive: true });
  return withFileLock(
    path.join(binDir, '.build.lock'),
    async () => {
      // Another process may have finished the build while we waited for the lock.
      const builtMeanwhile = findTemporalCli(options);
      if (builtMeanwhile) return builtMeanwhile;
      return buildTemporalCli(binDir, env, log);
    },
    {
      onWait: () => log('another process is building the Temporal CLI; waiting for it'),
    },
  );
}

export interface CommandResult {
  exitCode: number | null;
  /** Last output lines, kept to explain a failure. */
  tail: string[];
}

/** Runs a command, passing each line of its output to `log`; resolves with its exit code and last lines. */
export function runStreaming(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    const onLine = (line: string) => {
      log(line);
      tail.push(line);
      if (tail.length > 40) tail.shift();
    };
    createInterface({ input: child.stdout }).on('line', onLine);
    createInterface({ input: child.stderr }).on('line', onLine);
    child.on('error', reject);
    child.on('close', (exitCode) => resolve({ exitCode, tail }));
  });
}

async function assertGoAvailable(env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<void> {
  try {
    const { exitCode } = await runStreaming('go', ['version'], env, log);
    if (exitCode === 0) return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  throw new Error(
    'No Temporal CLI found and `go` is not available to build one. Install Go ≥ 1.23 ' +
      '(e.g. `apt-get install golang`, or from https://go.dev/dl/) and retry, or set ' +
      'TEMPORAL_CLI_PATH to an existing `temporal` binary.',
  );
}

/** Messages with which `go` refuses a module whose go.mod needs a newer toolchain. */
const GO_TOO_OLD_PATTERN =
  /requires go\s*>=|module requires go|go\.mod requires go|go version .* (?:is )?too old|invalid go version|unknown directive: toolchain|GOTOOLCHAIN/i;

async function buildTemporalCli(binDir: string, env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<string> {
  log('building the Temporal CLI from Go modules, this takes a few minutes, once');
  await assertGoAvailable(env, log);

  // Build into a private directory and rename at the end, so that an interrupted
  // build never leaves a truncated binary where findTemporalCli would pick it up.
  const stagingDir = path.join(binDir, `.staging-${process.pid}`);
  await rm(stagingDir, { recursive: true, force: true });
  const target = `${TEMPORAL_CLI_GO_PACKAGE}@${TEMPORAL_CLI_VERSION}`;
  const startedAt = Date.now();
  try {
    const buildEnv = { ...env, GOBIN: stagingDir };
    log(`$ GOBIN=${stagingDir} go install ${target}`);
    let result = await runStreaming('go', ['install', target], buildEnv, log);
    if (result.exitCode !== 0 && GO_TOO_OLD_PATTERN.test(result.tail.join('\n'))) {
      log(`the installed Go is too old for ${target}; retrying with GOTOOLCHAIN=${FALLBACK_GO_TOOLCHAIN}`);
      result = await runStreaming('go', ['install', target], { ...buildEnv, GOTOOLCHAIN: FALLBACK_GO_TOOLCHAIN }, log);
    }
    if (result.exitCode !== 0) {
      throw new Error(
        `Building the Temporal CLI failed (go install ${target} exited with ${result.exitCode}). ` +
          `Last output:\n${result.tail.join('\n')}\n` +
          `Fix the Go setup (Go ≥ 1.23, GOPROXY reachable), or set TEMPORAL_CLI_PATH to an existing binary.`,
      );
    }
    const destination = path.join(binDir, BINARY_NAME);
    await rename(path.join(stagingDir, BINARY_NAME), destination);
    log(`built ${destination} in ${Math.round((Date.now() - startedAt) / 1000)} s`);
    return destination;
  } finally {
    await rm(stagingDir, { recursive: true, force: true });
  }
}
