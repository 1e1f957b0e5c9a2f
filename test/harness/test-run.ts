/**
 * Runs test tiers, the folders of test/: `unit` (no server), `integration` (dev server, emulator
 * and the real counterparts), `soak` (the long scenarios at full length) and `cluster` (a
 * self-hosted Temporal Service on PostgreSQL per test file, see test/harness/temporal-service.ts).
 * `npm test` runs unit and integration, `npm run test:soak` the soak tier, `npm run test:cluster`
 * the cluster tier.
 *
 *   node dist/test/harness/test-run.js <tier>… [--concurrency N] [--only name,…]
 *
 * Each tier is one `node --test` run over every `*.test.js` of its folder, N files at a time
 * (default 2: the tests mostly wait on servers and clocks, so two share a 2-core machine well).
 * The integration and soak tiers share one dev server, a namespace per test harness (see
 * test/harness/shared-temporal.ts); before the cluster tier the Temporal server is built when
 * missing (test/harness/temporal-server-build.ts), so no test's time goes to the build. After each
 * tier, the slowest files and the tier's wall time are printed; a failing tier stops the run with a non-zero exit code. `--only` keeps the files whose
 * names contain one of the given words (e.g. `--only batch,cli`), for a quick loop on a few files.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { DEV_SERVER_SEARCH_ATTRIBUTES } from '../../src/core/search-attributes';
import { startDevServer, temporalCacheDir, type DevServer } from '../../src/tools/devserver';
import { SHARED_TEMPORAL_ENV, namespacePool } from './shared-temporal';
import { ensureTemporalServer } from './temporal-server-build';
import { TEST_TIMES_ENV, type TestTime } from './test-times-line';

/** One test file's figures: its top-level tests' time (hooks included), tests passed and failed. */
interface FileTime {
  file: string;
  seconds: number;
  passed: number;
  failed: number;
}

const TIERS = ['unit', 'integration', 'soak', 'cluster'] as const;
type Tier = (typeof TIERS)[number];

/** How long one test may take before node:test calls it failed. */
const TEST_TIMEOUT_MS: Record<Tier, number> = {
  unit: 120_000,
  integration: 1_800_000,
  soak: 3_600_000,
  cluster: 900_000,
};

/** Tiers whose tests run on the run's shared dev server. */
const DEV_SERVER_TIERS: readonly Tier[] = ['integration', 'soak'];

const TEST_ROOT = join(__dirname, '..');

interface RunOptions {
  tiers: Tier[];
  concurrency: number;
  only?: string[];
}

function parseArgs(argv: string[]): RunOptions {
  const tiers: Tier[] = [];
  let concurrency = Number(process.env.OPENEO_TEMPORAL_TEST_CONCURRENCY ?? 2);
  let only: string[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--concurrency') concurrency = Number(argv[++i]);
    else if (arg === '--only') only = (argv[++i] ?? '').split(',').filter(Boolean);
    else if ((TIERS as readonly string[]).includes(arg)) tiers.push(arg as Tier);
    else throw new Error(`unknown argument "${arg}": give tiers (${TIERS.join(', ')}) and optionally --concurrency N`);
  }
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new Error('--concurrency (or OPENEO_TEMPORAL_TEST_CONCURRENCY) must be a whole number ≥ 1');
  if (tiers.length === 0) throw new Error(`name at least one tier: ${TIERS.join(', ')}`);
  return { tiers, concurrency, only };
}

/** Where each tier's file times from the last run are kept, to start the longest files first. */
function lastTimesFile(tier: Tier): string {
  return join(temporalCacheDir(), 'test-times', `${tier}.json`);
}

/**
 * A tier's files, the longest first by the last run's times (files new since then first of
 * all): with files run N at a time, a long file started last would run alone at the end.
 */
async function tierFiles(tier: Tier, only: string[] | undefined): Promise<string[]> {
  const dir = join(TEST_ROOT, tier);
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.test.js'));
  const wanted = only ? names.filter((n) => only.some((word) => n.includes(word))) : names;
  const last = JSON.parse(await readFile(lastTimesFile(tier), 'utf8').catch(() => '{}')) as Record<string, number>;
  const seconds = (name: string) => last[name] ?? Number.POSITIVE_INFINITY;
  return wanted.sort((a, b) => seconds(b) - seconds(a) || a.localeCompare(b)).map((n) => join(dir, n));
}

async function keepTimes(tier: Tier, times: FileTime[]): Promise<void> {
  const file = lastTimesFile(tier);
  const kept = JSON.parse(await readFile(file, 'utf8').catch(() => '{}')) as Record<string, number>;
  for (const t of times) kept[basename(t.file)] = Math.round(t.seconds * 10) / 10;
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(kept, null, 1)}\n`);
}

/** The run's shared dev server, with a pool of namespaces for the harnesses. */
async function startSharedTemporal(workDir: string): Promise<DevServer> {
  const extraArgs = namespacePool().flatMap((namespace) => ['--namespace', namespace]);
  return startDevServer({
    dataDir: join(workDir, 'temporal'),
    ui: false,
    searchAttributes: DEV_SERVER_SEARCH_ATTRIBUTES,
    extraArgs,
  });
}

function runNodeTest(
  files: string[],
  tier: Tier,
  concurrency: number,
  timesFile: string,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const args = [
    '--test',
    `--test-concurrency=${concurrency}`,
    `--test-timeout=${TEST_TIMEOUT_MS[tier]}`,
    '--test-force-exit',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${join(__dirname, 'test-times.js')}`,
    '--test-reporter-destination=stderr',
    ...files,
  ];
  const child = spawn(process.execPath, args, { stdio: 'inherit', env: { ...env, [TEST_TIMES_ENV]: timesFile } });
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

function fileTimes(lines: string): FileTime[] {
  const files = new Map<string, FileTime>();
  for (const line of lines.split('\n').filter(Boolean)) {
    const time = JSON.parse(line) as TestTime;
    const entry = files.get(time.file) ?? { file: time.file, seconds: 0, passed: 0, failed: 0 };
    files.set(time.file, entry);
    if (!time.suite) entry[time.passed ? 'passed' : 'failed'] += 1;
    if (time.nesting === 0) entry.seconds += time.seconds;
  }
  return [...files.values()];
}

function summary(tier: Tier, times: FileTime[], wallSeconds: number): string {
  const slowest = [...times].sort((a, b) => b.seconds - a.seconds).slice(0, 10);
  const tests = times.reduce((n, t) => n + t.passed + t.failed, 0);
  const failed = times.reduce((n, t) => n + t.failed, 0);
  const lines = slowest.map(
    (t) => `  ${t.seconds.toFixed(1).padStart(7)} s  ${relative(TEST_ROOT, t.file).replace(/\.js$/, '.ts')}`,
  );
  return [
    `${tier}: ${times.length} files, ${tests} tests, ${failed} failed, ${wallSeconds.toFixed(0)} s wall; slowest files:`,
    ...lines,
  ].join('\n');
}

async function runTier(
  tier: Tier,
  options: RunOptions,
  workDir: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; report: string }> {
  const files = await tierFiles(tier, options.only);
  if (files.length === 0) return { code: 0, report: `${tier}: no test files` };
  const timesFile = join(workDir, `${tier}-times.json`);
  const startedAt = Date.now();
  const code = await runNodeTest(files, tier, options.concurrency, timesFile, env);
  const times = fileTimes(await readFile(timesFile, 'utf8').catch(() => ''));
  await keepTimes(tier, times);
  return { code, report: summary(tier, times, (Date.now() - startedAt) / 1000) };
}

/** The environment of a tier's tests: only the dev server's tiers are told of the shared server. */
function tierEnv(tier: Tier, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (DEV_SERVER_TIERS.includes(tier)) return env;
  const own = { ...env };
  for (const name of Object.values(SHARED_TEMPORAL_ENV)) delete own[name];
  return own;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const { tiers } = options;
  const workDir = await mkdtemp(join(tmpdir(), 'openeo-temporal-tests-'));
  let server: DevServer | undefined;
  let exitCode = 0;
  const reports: string[] = [];
  try {
    const env: NodeJS.ProcessEnv = { ...process.env };
    if (tiers.some((tier) => DEV_SERVER_TIERS.includes(tier))) {
      server = await startSharedTemporal(workDir);
      env[SHARED_TEMPORAL_ENV.address] = server.address;
      env[SHARED_TEMPORAL_ENV.namespaces] = namespacePool().join(',');
      env[SHARED_TEMPORAL_ENV.claims] = join(workDir, 'claims');
      await mkdir(env[SHARED_TEMPORAL_ENV.claims]!);
    }
    for (const tier of tiers) {
      if (tier === 'cluster') await ensureTemporalServer({ log: (line) => console.log(line) });
      const { code, report } = await runTier(tier, options, workDir, tierEnv(tier, env));
      reports.push(report);
      console.log(`\n${report}\n`);
      if (code !== 0) {
        exitCode = code;
        break;
      }
    }
  } finally {
    await server?.stop();
    await rm(workDir, { recursive: true, force: true });
  }
  if (reports.length > 1) console.log(`\n${reports.join('\n\n')}`);
  process.exitCode = exitCode;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
