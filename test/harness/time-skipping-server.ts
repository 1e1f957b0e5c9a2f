/**
 * Temporal's Java test server, the one that skips time (`TestWorkflowEnvironment.createTimeSkipping`):
 * workflows that sleep for hours finish in seconds. The SDK would download a prebuilt binary from
 * temporal.io; these machines reach only package registries, so it is fetched once from Maven
 * Central with `mvn` into the project's tool cache (beside the Temporal CLI) and run with `java`.
 *
 * Run as a script (`node dist/test/harness/time-skipping-server.js`) it fetches the jars if needed and
 * prints the launcher's path: `npm test` and `.ci/run` call it before the tests.
 */
import { accessSync, constants as fsConstants, readdirSync } from 'node:fs';
import { chmod, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { withFileLock } from '../../src/tools/devserver/file-lock';
import { runStreaming as run, temporalCacheDir } from '../../src/tools/devserver/temporal-cli';

/** The Maven artifact `io.temporal:temporal-test-server` (it speaks the protocol of SDK 1.24). */
export const TEST_SERVER_VERSION = '1.31.0';
const TEST_SERVER_MAIN_CLASS = 'io.temporal.testserver.TestServer';
const LAUNCHER_NAME = 'test-server';

/** Options for {@link ensureTimeSkippingServer}. */
export interface TimeSkippingServerOptions {
  /** Receives progress lines. @default ignore them */
  log?: (line: string) => void;
  /** Environment to read OPENEO_TEMPORAL_CACHE_DIR, PATH, … from. @default process.env */
  env?: NodeJS.ProcessEnv;
}

/** `<cache>/temporal-test-server/<version>`: the jars under `lib/` and the launcher script. */
export function timeSkippingServerDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(temporalCacheDir(env), 'temporal-test-server', TEST_SERVER_VERSION);
}

/** The launcher an `existing-path` executable points at: `test-server <port>` starts the server. */
export function timeSkippingServerLauncher(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(timeSkippingServerDir(env), LAUNCHER_NAME);
}

/** True when the launcher is executable and the jars it needs are there. */
function isInstalled(dir: string): boolean {
  try {
    accessSync(path.join(dir, LAUNCHER_NAME), fsConstants.X_OK);
    return readdirSync(path.join(dir, 'lib')).some((name) => name.startsWith('temporal-test-server-'));
  } catch {
    return false;
  }
}

/**
 * Returns the launcher of the time-skipping test server, fetching its jars with Maven the first
 * time (about 33 MB). Concurrent callers fetch once: the others wait on a lock, and the finished
 * directory appears by a rename, so a half-done fetch is never used.
 */
export async function ensureTimeSkippingServer(options: TimeSkippingServerOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => {});
  const dir = timeSkippingServerDir(env);
  if (isInstalled(dir)) return timeSkippingServerLauncher(env);
  await mkdir(path.dirname(dir), { recursive: true });
  await withFileLock(
    path.join(path.dirname(dir), '.fetch.lock'),
    async () => {
      if (!isInstalled(dir)) await fetchTestServer(dir, env, log);
    },
    { onWait: () => log('another process is fetching the Temporal test server; waiting for it') },
  );
  return timeSkippingServerLauncher(env);
}

async function fetchTestServer(dir: string, env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<void> {
  await assertAvailable('java', ['-version'], env);
  await assertAvailable('mvn', ['-v'], env);
  const staging = `${dir}.staging-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  const startedAt = Date.now();
  try {
    const pom = path.join(staging, 'pom.xml');
    await writeFile(pom, fetchPom());
    log(`fetching io.temporal:temporal-test-server:${TEST_SERVER_VERSION} with Maven, once`);
    const args = [
      '-q',
      '-B',
      '-f',
      pom,
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-DoutputDirectory=${path.join(staging, 'lib')}`,
    ];
    const result = await run('mvn', args, env, log);
    if (result.exitCode !== 0) {
      throw new Error(
        `Fetching the Temporal test server failed (mvn ${args.join(' ')} exited with ${result.exitCode}). ` +
          `Last output:\n${result.tail.join('\n')}\nCheck that Maven Central is reachable (or a mirror in ~/.m2/settings.xml).`,
      );
    }
    await rm(pom);
    const launcher = path.join(staging, LAUNCHER_NAME);
    await writeFile(launcher, launcherScript());
    await chmod(launcher, 0o755);
    await rm(dir, { recursive: true, force: true }); // a broken earlier copy (isInstalled said no)
    await rename(staging, dir);
    log(`fetched the Temporal test server into ${dir} in ${Math.round((Date.now() - startedAt) / 1000)} s`);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** A throwaway project whose only dependency is the test server: Maven copies it and what it needs. */
function fetchPom(): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.openeo-temporal</groupId>
  <artifactId>fetch-temporal-test-server</artifactId>
  <version>0</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>io.temporal</groupId>
      <artifactId>temporal-test-server</artifactId>
      <version>${TEST_SERVER_VERSION}</version>
    </dependency>
  </dependencies>
</project>
`;
}

/**
 * Finds its jars next to itself, so the directory can be renamed into place. `exec` makes java
 * the process the SDK started, so that the SDK's stop ends the server itself. The small heap and
 * serial collector suit a server holding a test's few workflows on a shared 2-core machine.
 */
function launcherScript(): string {
  return `#!/bin/sh
# Temporal's time-skipping test server ${TEST_SERVER_VERSION}, fetched by test/harness/time-skipping-server.ts.
exec java -Xmx512m -XX:+UseSerialGC \${OPENEO_TEMPORAL_TEST_SERVER_JAVA_OPTS:-} -cp "$(dirname "$0")/lib/*" ${TEST_SERVER_MAIN_CLASS} "$@"
`;
}

async function assertAvailable(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  try {
    if ((await run(command, args, env, () => {})).exitCode === 0) return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  throw new Error(
    `The time-skipping tests need Temporal's Java test server, fetched with Maven, but \`${command}\` is not available. ` +
      `Install Java ≥ 11 and Maven (e.g. \`apt-get install openjdk-17-jre-headless maven\`) and retry.`,
  );
}

if (require.main === module) {
  ensureTimeSkippingServer({ log: (line) => console.error(line) })
    .then((launcher) => console.log(launcher))
    .catch((error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    });
}
