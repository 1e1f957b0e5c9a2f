/**
 * A real S3-compatible server for tests: SeaweedFS's `weed server` (master, volume, filer and
 * S3 gateway in one process) on free ports in a temporary folder, with one S3 identity and one
 * bucket. `weed` is built once from Go modules into the tool cache by `.ci/run` (or by hand, see
 * docs/testing.md); MinIO is not used (AGPL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { s3ClientConfig } from '../../activities/store';
import { temporalCacheDir } from '../../src/tools/devserver';
import { findFreePorts } from '../../src/tools/devserver/free-port';
import { terminate } from './child-process';

/** The SeaweedFS module version `.ci/run` builds. */
export const SEAWEEDFS_VERSION = 'v0.0.0-20261109003541-7506e5f91cd6';

/** `$WEED_PATH`, else `<tool cache>/bin/weed`. */
export function weedPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.WEED_PATH || join(temporalCacheDir(env), 'bin', 'weed');
}

/**
 * Why S3 tests cannot run here, or undefined when they can. Outside CI a missing `weed` skips
 * them (loudly); in CI (`CI=true`) it is a failure, since `.ci/run` builds it.
 */
export function s3Unavailable(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (existsSync(weedPath(env))) return undefined;
  const message = `SeaweedFS's weed is not at ${weedPath(env)}: build it as .ci/run does (see docs/testing.md, "Counterparts")`;
  if (env.CI === 'true') throw new Error(message);
  process.stderr.write(`\n*** SKIPPING S3 TESTS: ${message} ***\n\n`);
  return message;
}

export interface S3Server {
  endpoint: string;
  bucket: string;
  /** The AWS variables a worker needs to use this server. */
  env: NodeJS.ProcessEnv;
  /** Stops the server, keeping its data: an outage, until `bringBack`. */
  takeDown(): Promise<void>;
  /** Serves the same data again at the same endpoint. */
  bringBack(): Promise<void>;
  stop(): Promise<void>;
}

const ACCESS_KEY = 'openeo-temporal-test';
const SECRET_KEY = 'openeo-temporal-test-secret';

async function waitForS3(
  env: NodeJS.ProcessEnv,
  child: ChildProcess,
  log: () => string,
  timeoutMs = 120_000,
): Promise<void> {
  const client = new S3Client(s3ClientConfig(env));
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`weed exited with ${child.exitCode}:\n${log()}`);
      try {
        await client.send(new ListBucketsCommand({}), { abortSignal: AbortSignal.timeout(5_000) });
        return;
      } catch (err) {
        if (Date.now() > deadline)
          throw new Error(
            `SeaweedFS's S3 gateway did not answer within ${timeoutMs} ms: ${(err as Error).message}\n${log()}`,
            { cause: err },
          );
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  } finally {
    client.destroy();
  }
}

/** Creates `bucket`, retrying while the filer is still starting up. */
async function createBucket(env: NodeJS.ProcessEnv, bucket: string, timeoutMs = 60_000): Promise<void> {
  const client = new S3Client(s3ClientConfig(env));
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      try {
        await client.send(new CreateBucketCommand({ Bucket: bucket }));
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  } finally {
    client.destroy();
  }
}

/** The ports of one `weed server`: each component's HTTP and gRPC port. */
interface WeedPorts {
  master: number;
  volume: number;
  filer: number;
  s3: number;
  grpc: [number, number, number, number];
}

async function weedPorts(): Promise<WeedPorts> {
  const [master, volume, filer, s3, ...grpc] = await findFreePorts(8);
  return { master: master!, volume: volume!, filer: filer!, s3: s3!, grpc: grpc as WeedPorts['grpc'] };
}

function weedArgs(dataDir: string, config: string, ports: WeedPorts): string[] {
  return [
    'server',
    `-dir=${dataDir}`,
    '-ip=127.0.0.1',
    '-ip.bind=127.0.0.1',
    `-master.port=${ports.master}`,
    `-master.port.grpc=${ports.grpc[0]}`,
    // Small volumes: a test writes a few MB, not the default 30 GB per volume.
    '-master.volumeSizeLimitMB=64',
    `-volume.port=${ports.volume}`,
    `-volume.port.grpc=${ports.grpc[1]}`,
    '-volume.max=20',
    '-filer',
    `-filer.port=${ports.filer}`,
    `-filer.port.grpc=${ports.grpc[2]}`,
    '-s3',
    `-s3.port=${ports.s3}`,
    `-s3.port.grpc=${ports.grpc[3]}`,
    `-s3.config=${config}`,
    // Catalog servers on fixed default ports (8181, 9101) would clash with anything else there.
    '-s3.port.iceberg=0',
    '-s3.port.lance=0',
    // A stop is a stop: no 10 s of heartbeats wound down first (there is no other server to tell).
    '-volume.preStopSeconds=0',
    // The only master elects itself again after a restart in about a second, not 10 to 20.
    '-master.electionTimeout=1s',
  ];
}

/**
 * How long a stop waits after SIGTERM before SIGKILL. The S3 port closes at once, but weed often
 * does not exit by itself for 10 s; the end is the same, and an outage is a crash anyway.
 */
const STOP_GRACE_MS = 2_000;

/** How many sets of ports a start tries: another process may take a free port before weed binds it. */
const START_ATTEMPTS = 3;

/** Starts SeaweedFS with an S3 gateway and a bucket; `stop()` kills it and removes its data. */
export async function startS3Server(options: { bucket?: string } = {}): Promise<S3Server> {
  const bucket = options.bucket ?? 'results';
  const dir = await mkdtemp(join(tmpdir(), 'openeo-temporal-s3-'));
  const config = join(dir, 's3.json');
  const identities = [
    {
      name: 'tests',
      credentials: [{ accessKey: ACCESS_KEY, secretKey: SECRET_KEY }],
      actions: ['Admin', 'Read', 'Write', 'List', 'Tagging'],
    },
  ];
  await writeFile(config, JSON.stringify({ identities }));
  let output = '';
  let child: ChildProcess | undefined;
  let ports = await weedPorts();
  // A fresh data folder for each attempt: a server that failed half-way may have recorded its ports.
  let dataDir = join(dir, 'data-1');
  await mkdir(dataDir);
  const env = () => ({
    AWS_ACCESS_KEY_ID: ACCESS_KEY,
    AWS_SECRET_ACCESS_KEY: SECRET_KEY,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${ports.s3}`,
  });
  const serve = async () => {
    output = '';
    const started = spawn(weedPath(), weedArgs(dataDir, config, ports), {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-8_000);
    };
    started.stdout!.on('data', keep);
    started.stderr!.on('data', keep);
    await waitForS3(env(), started, () => output);
  };
  const takeDown = () => terminate(child, STOP_GRACE_MS);
  const stop = async () => {
    await takeDown();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await serve();
        break;
      } catch (err) {
        if (attempt >= START_ATTEMPTS || !output.includes('address already in use')) throw err;
        await takeDown();
        ports = await weedPorts();
        dataDir = join(dir, `data-${attempt + 1}`);
        await mkdir(dataDir);
      }
    }
    await createBucket(env(), bucket);
  } catch (err) {
    await stop();
    throw err;
  }
  // From here on the ports stay: bringBack serves the same endpoint again.
  return { endpoint: env().AWS_ENDPOINT_URL_S3, bucket, env: env(), takeDown, bringBack: serve, stop };
}
