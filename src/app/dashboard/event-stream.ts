/**
 * Server-sent events: the page's `EventSource` gets each message as one event; comments keep the
 * connection open through proxies that close idle ones.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

const KEEP_ALIVE_MS = 15_000;
/** How long the browser waits before it reconnects after the stream broke. */
const RECONNECT_MS = 3_000;

export interface EventStream {
  send(event: string, data: unknown): void;
  /** Runs once the page went away (or the stream was ended). */
  onClose(listener: () => void): void;
  end(): void;
}

export function openEventStream(req: IncomingMessage, res: ServerResponse): EventStream {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // Reverse proxies (nginx) would otherwise hold the events back in their buffer.
    'x-accel-buffering': 'no',
  });
  res.write(`retry: ${RECONNECT_MS}\n\n`);
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
  const closeListeners: (() => void)[] = [];
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(keepAlive);
    for (const listener of closeListeners) listener();
  };
  // The response closes when the page goes away (the request's own 'close' only means it was read).
  res.on('close', close);
  if (req.socket.destroyed) close();
  return {
    send(event, data) {
      // JSON has no raw newlines, so one `data:` line carries the whole message.
      if (!closed) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    onClose(listener) {
      if (closed) listener();
      else closeListeners.push(listener);
    },
    end() {
      res.end();
      close();
    },
  };
}
