/**
 * `count` distinct TCP ports that are unused on `host` right now, from get-port. get-port keeps
 * each port it hands out from this process's later calls for 15–30 s, so the ports of one call
 * (and of calls close together) never repeat. Another process could still bind one first; that is
 * rare enough on a developer machine that a failed start with a clear message is the right answer.
 */
export async function findFreePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  // get-port is published as an ES module only; from CommonJS it can only be loaded with import().
  const { default: getPort } = await import('get-port');
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await getPort({ host }));
  return ports;
}
