import { delay, HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FetchRefused, isPrivateAddress, safeDownload } from "../src/delivery/safe-fetch.ts";

const server = setupServer();
let requested: string[] = [];
beforeAll(() => {
  server.listen({ onUnhandledRequest: "error" });
  server.events.on("request:start", ({ request }) => requested.push(request.url));
});
afterEach(() => {
  server.resetHandlers();
  requested = [];
});
afterAll(() => server.close());

const options = {
  allowedHosts: ["aiquickdraw.com", "redpandaai.co"],
  maxBytes: 1_000,
  timeoutMs: 200,
  fetch: (input: RequestInfo | URL, init?: RequestInit) => fetch(input, init),
};

async function refusal(url: string): Promise<string> {
  try {
    await safeDownload(url, options);
  } catch (error) {
    if (error instanceof FetchRefused) return error.code;
    throw error;
  }
  return "downloaded";
}

describe("result downloads", () => {
  it("downloads from an allowed host over https", async () => {
    server.use(
      http.get("https://tempfile.aiquickdraw.com/r/a.png", () =>
        HttpResponse.arrayBuffer(new Uint8Array([1, 2, 3]).buffer, { headers: { "content-type": "image/png" } }),
      ),
    );
    const file = await safeDownload("https://tempfile.aiquickdraw.com/r/a.png", options);
    expect([...file.bytes]).toEqual([1, 2, 3]);
    expect(file.contentType).toBe("image/png");
  });

  it("does not fetch other hosts, plain http or private addresses at all", async () => {
    expect(await refusal("https://evil.example/a.png")).toBe("host_not_allowed");
    expect(await refusal("https://aiquickdraw.com.evil.example/a.png")).toBe("host_not_allowed");
    expect(await refusal("http://tempfile.aiquickdraw.com/a.png")).toBe("not_https");
    expect(await refusal("https://127.0.0.1/a.png")).toBe("private_address");
    expect(await refusal("https://[::1]/a.png")).toBe("private_address");
    expect(await refusal("not a url")).toBe("invalid_url");
    expect(requested).toEqual([]);
  });

  it("re-checks every redirect and stops at one that leaves the allowlist", async () => {
    server.use(
      http.get("https://file.aiquickdraw.com/a.png", () =>
        HttpResponse.text("", { status: 302, headers: { location: "https://169.254.169.254/latest/meta-data" } }),
      ),
    );
    expect(await refusal("https://file.aiquickdraw.com/a.png")).toBe("private_address");
    expect(requested).toEqual(["https://file.aiquickdraw.com/a.png"]);
  });

  it("stops at the size cap, declared or not, and at the time cap", async () => {
    server.use(
      http.get("https://file.aiquickdraw.com/declared.mp4", () =>
        HttpResponse.arrayBuffer(new Uint8Array(5_000).buffer, { headers: { "content-length": "5000" } }),
      ),
      http.get(
        "https://file.aiquickdraw.com/streamed.mp4",
        () =>
          new HttpResponse(
            new ReadableStream({
              start(controller) {
                for (let i = 0; i < 5; i++) controller.enqueue(new Uint8Array(400));
                controller.close();
              },
            }),
          ),
      ),
      http.get("https://file.aiquickdraw.com/slow.mp4", async () => {
        await delay(1_000);
        return HttpResponse.text("late");
      }),
    );
    expect(await refusal("https://file.aiquickdraw.com/declared.mp4")).toBe("too_large");
    expect(await refusal("https://file.aiquickdraw.com/streamed.mp4")).toBe("too_large");
    expect(await refusal("https://file.aiquickdraw.com/slow.mp4")).toBe("timeout");
  });

  it("knows private, loopback, link-local and mapped addresses", () => {
    for (const host of [
      "10.1.2.3",
      "172.20.0.1",
      "192.168.1.1",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "fd00::1",
      "fe80::1",
      "::ffff:127.0.0.1",
      "localhost",
    ]) {
      expect(isPrivateAddress(host), host).toBe(true);
    }
    for (const host of ["8.8.8.8", "tempfile.aiquickdraw.com", "2a00:1450::1"])
      expect(isPrivateAddress(host), host).toBe(false);
  });
});
