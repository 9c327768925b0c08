import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeFetch } from "../src/platform/node-fetch.ts";

let root = "";
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    if (req.url === "/slow") return; // never answers
    if (req.url === "/empty") {
      res.statusCode = 204;
      return res.end();
    }
    res.statusCode = req.url === "/missing" ? 404 : 200;
    res.setHeader("content-type", "application/json");
    res.setHeader("x-seen-length", String(req.headers["content-length"] ?? ""));
    res.end(
      JSON.stringify({ method: req.method, type: req.headers["content-type"], body: Buffer.concat(chunks).toString() }),
    );
  });
});

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  root = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe("nodeFetch (the Node platform's fetch)", () => {
  it("posts a JSON body with its length and returns status, headers and body", async () => {
    const body = JSON.stringify({ text: "Привет, <b>мир</b> 🦊" });
    const response = await nodeFetch(`${root}/call`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-seen-length")).toBe(String(new TextEncoder().encode(body).byteLength));
    expect(await response.json()).toEqual({ method: "POST", type: "application/json", body });
  });

  it("passes error statuses through and gives 204 an empty body", async () => {
    expect((await nodeFetch(`${root}/missing`)).status).toBe(404);
    const empty = await nodeFetch(new URL(`${root}/empty`));
    expect(empty.status).toBe(204);
    expect(await empty.text()).toBe("");
  });

  it("rejects with the abort reason when the signal fires, and at once when already aborted", async () => {
    const controller = new AbortController();
    const pending = nodeFetch(`${root}/slow`, { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
    await expect(nodeFetch(`${root}/call`, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: "AbortError",
    });
  });

  it("reports a refused connection as fetch does (TypeError)", async () => {
    await expect(nodeFetch("http://127.0.0.1:9/")).rejects.toBeInstanceOf(TypeError);
  });

  it("hands bodies it does not handle (form data) to the built-in fetch", async () => {
    const form = new FormData();
    form.set("field", "value");
    const response = await nodeFetch(`${root}/call`, { method: "POST", body: form });
    const seen = (await response.json()) as { type: string; body: string };
    expect(seen.type).toMatch(/^multipart\/form-data/);
    expect(seen.body).toContain("value");
  });
});
