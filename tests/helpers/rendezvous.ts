/**
 * A local HTTP server that answers only when `parties` requests are waiting
 * at once: if the callers were serialized, it answers 408 after `waitMs`.
 */
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export async function startRendezvous(parties: number, waitMs: number) {
  let waiting: ServerResponse[] = [];
  let met = 0;
  let missed = 0;
  const server = createServer((_request, response) => {
    waiting.push(response);
    if (waiting.length >= parties) {
      met++;
      for (const res of waiting) res.end("met");
      waiting = [];
      return;
    }
    setTimeout(() => {
      if (!waiting.includes(response)) return;
      missed++;
      waiting = waiting.filter((res) => res !== response);
      response.statusCode = 408;
      response.end("alone");
    }, waitMs);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/meet`,
    stats: () => ({ met, missed }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
