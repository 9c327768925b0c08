import { request as httpRequest } from "node:http";
import { describe, expect, it } from "vitest";
import { platform } from "../src/platform/platform.node.ts";
import type { HttpClientInfo } from "../src/platform/types.ts";

interface Seen {
  method: string;
  path: string;
  type: string | null;
  body: string;
  client: string | undefined;
}

function echoHandler(seen: Seen[]) {
  return async (request: Request, client: HttpClientInfo) => {
    const url = new URL(request.url);
    seen.push({
      method: request.method,
      path: `${url.pathname}${url.search}`,
      type: request.headers.get("content-type"),
      body: await request.text(),
      client: client.remoteAddress,
    });
    return Response.json({ got: seen.length }, { status: 201, headers: { "x-answer": "yes" } });
  };
}

/** Sends a chunked upload (no content-length) of `chunks` × 64 KiB and returns the status. */
function chunkedPost(port: number, chunks: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, method: "POST", path: "/upload" }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    const chunk = Buffer.alloc(64 * 1024, 120);
    let sent = 0;
    const pump = () => {
      while (sent < chunks) {
        sent++;
        if (!req.write(chunk)) return void req.once("drain", pump);
      }
      req.end();
    };
    pump();
  });
}

describe("platform.serveHttp on Node", () => {
  it("hands the handler a web Request and writes its Response back", async () => {
    const seen: Seen[] = [];
    const server = await platform.serveHttp({ port: 0, hostname: "127.0.0.1" }, echoHandler(seen));
    try {
      expect(server.port).toBeGreaterThan(0);
      const body = JSON.stringify({ text: "Привет 🦊" });
      const response = await fetch(`http://127.0.0.1:${server.port}/kie/callback?x=1`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      expect(response.status).toBe(201);
      expect(response.headers.get("x-answer")).toBe("yes");
      expect(await response.json()).toEqual({ got: 1 });
      expect(seen).toEqual([
        { method: "POST", path: "/kie/callback?x=1", type: "application/json", body, client: "127.0.0.1" },
      ]);
    } finally {
      await server.close();
    }
  });

  it("frees the port on close", async () => {
    const first = await platform.serveHttp({ port: 0, hostname: "127.0.0.1" }, () => new Response("one"));
    const port = first.port;
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe("one");
    await first.close();
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toBeInstanceOf(TypeError);
    const second = await platform.serveHttp({ port, hostname: "127.0.0.1" }, () => new Response("two"));
    try {
      expect(second.port).toBe(port);
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe("two");
    } finally {
      await second.close();
    }
  });

  it("refuses bodies over 1 MiB with 413, declared or streamed, without calling the handler", async () => {
    const seen: Seen[] = [];
    const server = await platform.serveHttp({ port: 0, hostname: "127.0.0.1" }, echoHandler(seen));
    try {
      const declared = await fetch(`http://127.0.0.1:${server.port}/upload`, {
        method: "POST",
        body: new Uint8Array(1024 * 1024 + 1),
      });
      expect(declared.status).toBe(413);
      expect(await declared.json()).toEqual({ ok: false, error: "payload_too_large" });
      expect(await chunkedPost(server.port, 40)).toBe(413);
      expect(await chunkedPost(server.port, 16)).toBe(201);
      expect(seen).toHaveLength(1);
      expect(seen[0]?.body).toHaveLength(1024 * 1024);
    } finally {
      await server.close();
    }
  });

  it("answers 500 when the handler throws, and keeps serving", async () => {
    let calls = 0;
    const server = await platform.serveHttp({ port: 0, hostname: "127.0.0.1" }, () => {
      calls++;
      if (calls === 1) throw new Error("boom");
      return new Response(null, { status: 204 });
    });
    try {
      expect((await fetch(`http://127.0.0.1:${server.port}/`)).status).toBe(500);
      expect((await fetch(`http://127.0.0.1:${server.port}/`)).status).toBe(204);
    } finally {
      await server.close();
    }
  });
});
