/** The shapes of an openEO process graph, as the emulator reads what clients send. */

/** One node of a process graph. */
export interface ProcessNode {
  process_id: string;
  namespace?: string | null;
  arguments: Record<string, unknown>;
  result?: boolean;
}

/** A process graph: node id → node. */
export type ProcessGraph = Record<string, ProcessNode>;
