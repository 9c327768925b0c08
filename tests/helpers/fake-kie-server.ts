/**
 * A local KIE for benchmarks and worker-mode tests: a real HTTP server on 127.0.0.1 (reachable from
 * worker threads and other processes, unlike msw) that answers the market
 * family like `tests/helpers/fake-kie.ts` does. A task reports `generating`
 * until `generationMs` after its creation, then `success` with one result
 * URL on KIE's tempfile host (the bot hands it to Telegram by URL, so nothing
 * is downloaded). Every request must carry `authorization: Bearer <apiKey>`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export const RESULT_HOST = "https://tempfile.aiquickdraw.com";

/** A task as the fake created it. */
export interface FakeKieTask {
  readonly taskId: string;
  readonly body: Record<string, unknown>;
  /** `performance.now()` of its creation. */
  readonly createdAt: number;
  /** When each status read arrived, in ms after the creation. */
  readonly readsAt: number[];
  /** `performance.now()` of the first status read that answered `success`. */
  succeededAt?: number;
}

export interface FakeKieOptions {
  readonly apiKey: string;
  /** How long a task generates before it succeeds. */
  readonly generationMs: number;
  /** Sees every task right after it was created (the answer is on its way). */
  readonly onCreate?: (task: FakeKieTask) => void;
}

/** Request counts, for the benchmark's report. */
export interface FakeKieCounts {
  creates: number;
  statusReads: number;
  /** Status reads that answered `success`. */
  successReads: number;
  unauthorized: number;
  unknownTask: number;
  notFound: number;
}

export async function startFakeKieServer(options: FakeKieOptions) {
  const tasks = new Map<string, FakeKieTask>();
  const counts: FakeKieCounts = {
    creates: 0,
    statusReads: 0,
    successReads: 0,
    unauthorized: 0,
    unknownTask: 0,
    notFound: 0,
  };
  let next = 1;
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };

  const create = (res: ServerResponse, text: string) => {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return send(res, 200, { code: 422, msg: "invalid JSON body", data: null });
    }
    if (typeof body.model !== "string" || typeof body.input !== "object" || body.input === null) {
      return send(res, 200, { code: 422, msg: "model and input are required", data: null });
    }
    const taskId = `task_market_${next++}`;
    const task: FakeKieTask = { taskId, body, createdAt: performance.now(), readsAt: [] };
    tasks.set(taskId, task);
    counts.creates++;
    send(res, 200, { code: 200, msg: "success", data: { taskId } });
    options.onCreate?.(task);
  };

  const status = (res: ServerResponse, url: URL) => {
    const task = tasks.get(url.searchParams.get("taskId") ?? "");
    if (task === undefined) {
      counts.unknownTask++;
      return send(res, 200, { code: 422, msg: "recordInfo is null", data: null });
    }
    counts.statusReads++;
    const age = performance.now() - task.createdAt;
    task.readsAt.push(age);
    const model = String(task.body.model);
    if (age < options.generationMs) {
      return send(res, 200, { code: 200, msg: "success", data: { taskId: task.taskId, model, state: "generating" } });
    }
    counts.successReads++;
    task.succeededAt ??= performance.now();
    send(res, 200, {
      code: 200,
      msg: "success",
      data: {
        taskId: task.taskId,
        model,
        state: "success",
        resultJson: JSON.stringify({ resultUrls: [`${RESULT_HOST}/i/${task.taskId}.png`] }),
        failCode: "",
        failMsg: "",
      },
    });
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      if (req.headers.authorization !== `Bearer ${options.apiKey}`) {
        counts.unauthorized++;
        return send(res, 401, { code: 401, msg: "You do not have access permissions" });
      }
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      if (req.method === "POST" && url.pathname === "/api/v1/jobs/createTask") {
        return create(res, Buffer.concat(chunks).toString("utf8"));
      }
      if (req.method === "GET" && url.pathname === "/api/v1/jobs/recordInfo") return status(res, url);
      counts.notFound++;
      send(res, 404, { code: 404, msg: `no route ${req.method} ${url.pathname}` });
    });
  });
  // Thousands of concurrent requests arrive in a burst; the default backlog (511) is not the limit under test.
  await new Promise<void>((resolve) => server.listen({ port: 0, host: "127.0.0.1", backlog: 4096 }, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    tasks,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
