/**
 * `openeo-temporal export <batchId> --format csv|geojson|parquet [--out file]`: the batch as a
 * job database like the openEO Python job manager's. CSV and GeoJSON go to standard output
 * unless `--out` is given; Parquet is binary and needs `--out`.
 */
import type { Command } from 'commander';
import { connectClient } from './cli-errors';
import { EXPORT_FORMATS, formatOfPath, parseExportFormat, type ExportFormat } from '../../core/job-database';

interface ExportFlags {
  format?: string;
  out?: string;
  outputDir?: string;
}

/** The format asked for, else the one `--out`'s extension names; a clear error otherwise. */
export function exportFormatOf(flags: ExportFlags): ExportFormat {
  if (flags.format) return parseExportFormat(flags.format, '--format');
  const implied = flags.out ? formatOfPath(flags.out) : undefined;
  if (implied) return implied;
  throw new Error(`--format: say which format, ${EXPORT_FORMATS.join(', ')} (e.g. --format csv)`);
}

/** Refuses what cannot work before anything is read: Parquet is binary, not for a terminal or a pipe of text. */
export function checkExportTarget(format: ExportFormat, out: string | undefined): void {
  if (format === 'parquet' && !out) {
    throw new Error('--out: a Parquet export is a binary file: give the file to write, e.g. --out jobs.parquet');
  }
}

function writeStdout(bytes: Uint8Array): Promise<void> {
  // Wait until the bytes are handed to the OS: the CLI exits right after the command.
  return new Promise((resolve, reject) => process.stdout.write(bytes, (err) => (err ? reject(err) : resolve())));
}

export function registerExportCommand(program: Command): void {
  program
    .command('export')
    .description("a batch's tiles as a job database like the openEO Python job manager's (one row per tile)")
    .argument('<batchId>')
    .option('--format <format>', `${EXPORT_FORMATS.join(', ')} (default: from --out's extension)`)
    .option('--out <file>', 'write to this file (CSV and GeoJSON go to standard output without it; Parquet needs it)')
    .option(
      '--output-dir <dir>',
      "the batch's outputDir: read the records it saved there once Temporal no longer holds it",
    )
    .action(async (batchId: string, flags: ExportFlags) => {
      const format = exportFormatOf(flags);
      checkExportTarget(format, flags.out);
      const client = await connectClient();
      const result = await client.exportTiles(batchId, {
        format,
        ...(flags.out ? { out: flags.out } : {}),
        ...(flags.outputDir ? { savedIn: flags.outputDir } : {}),
      });
      if (result.problem) console.error(`warning: ${result.problem}`);
      if (result.path) console.error(`exported ${result.rows} tiles of batch ${batchId} to ${result.path} (${format})`);
      else await writeStdout(result.bytes);
    });
}
