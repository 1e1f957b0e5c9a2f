/**
 * Workflow histories as JSON files, for the replay fixtures. Written and read with
 * `@temporalio/proto`'s own History type (enums by name, 64-bit numbers and bytes as strings),
 * so one protobuf instance does both: the SDK's `historyToJSON` trips over two copies of
 * protobufjs in this install.
 */
import { temporal } from '@temporalio/proto';
import { readFile, writeFile } from 'node:fs/promises';

type History = temporal.api.history.v1.IHistory;
const HistoryType = temporal.api.history.v1.History;

/** A recorded history with its workflow id: workflows read their id (a batch's id is its batch id). */
export interface HistoryFile {
  workflowId: string;
  history: History;
}

export async function writeHistory(file: string, recorded: HistoryFile): Promise<void> {
  const history = HistoryType.toObject(HistoryType.fromObject(recorded.history), {
    enums: String,
    longs: String,
    bytes: String,
  });
  await writeFile(file, `${JSON.stringify({ workflowId: recorded.workflowId, history }, null, 1)}\n`);
}

export async function readHistory(file: string): Promise<HistoryFile> {
  const { workflowId, history } = JSON.parse(await readFile(file, 'utf8')) as {
    workflowId: string;
    history: Record<string, unknown>;
  };
  return { workflowId, history: HistoryType.fromObject(history) };
}
