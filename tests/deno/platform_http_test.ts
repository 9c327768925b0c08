/**
 * `platform.serveHttp` under Deno (`Deno.serve`): the same checks as
 * tests/platform.http.test.ts on Node. Run with `npx deno test -A tests/deno/`.
 */
import { platform } from "../../src/platform/mod.ts";

declare const Deno: {
  test(name: string, fn: () => Promise<void>): void;
};

function assertEquals(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

Deno.test("serveHttp on Deno hands the handler a web Request and writes its Response back", async () => {
  if (platform.name !== "deno") throw new Error(`expected the Deno platform, got ${platform.name}`);
  const seen: unknown[] = [];
  const server = await platform.serveHttp({ port: 0, hostname: "127.0.0.1" }, async (request, client) => {
    const url = new URL(request.url);
    seen.push({
      method: request.method,
      path: `${url.pathname}${url.search}`,
      body: await request.text(),
      client: client.remoteAddress,
    });
    return Response.json({ got: seen.length }, { status: 201, headers: { "x-answer": "yes" } });
  });
  try {
    const body = JSON.stringify({ text: "Привет 🦊" });
    const response = await fetch(`http://127.0.0.1:${server.port}/kie/callback?x=1`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    assertEquals(response.status, 201, "status");
    assertEquals(response.headers.get("x-answer"), "yes", "header");
    assertEquals(await response.json(), { got: 1 }, "response body");
    assertEquals(
      seen,
      [{ method: "POST", path: "/kie/callback?x=1", body, client: "127.0.0.1" }],
      "what the handler saw",
    );

    const tooLarge = await fetch(`http://127.0.0.1:${server.port}/upload`, {
      method: "POST",
      body: new Uint8Array(1024 * 1024 + 1),
    });
    assertEquals(tooLarge.status, 413, "oversized body");
    assertEquals(await tooLarge.json(), { ok: false, error: "payload_too_large" }, "413 body");
    assertEquals(seen.length, 1, "handler calls after the oversized body");
  } finally {
    await server.close();
  }
});

Deno.test("serveHttp on Deno frees its port on close", async () => {
  const first = await platform.serveHttp({ port: 0, hostname: "127.0.0.1" }, () => new Response("one"));
  const port = first.port;
  assertEquals(await (await fetch(`http://127.0.0.1:${port}/`)).text(), "one", "first server");
  await first.close();
  const refused = await fetch(`http://127.0.0.1:${port}/`).then(
    async (response) => {
      await response.body?.cancel();
      return false;
    },
    () => true,
  );
  assertEquals(refused, true, "connection refused after close");
  const second = await platform.serveHttp({ port, hostname: "127.0.0.1" }, () => new Response("two"));
  try {
    assertEquals(second.port, port, "same port");
    assertEquals(await (await fetch(`http://127.0.0.1:${port}/`)).text(), "two", "second server");
  } finally {
    await second.close();
  }
});
