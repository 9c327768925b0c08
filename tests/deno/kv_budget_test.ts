/**
 * Result records under Deno's own KV: 2,000 URLs and a 40,000-character
 * Cyrillic transcript, split as a job's success splits them, are each
 * accepted by Deno KV and measured no smaller than Deno stores them, while
 * the whole result as one value is refused (the 64 KiB limit is real).
 * The Node suite proves the same against `@deno/kv`. Run with `npx deno test -A tests/deno/`.
 */
import { KV_VALUE_LIMIT, RESULT_CHUNK_BUDGET, serializedSize } from "../../src/jobs/kv-size.ts";
import { joinResult, splitResult } from "../../src/jobs/result.ts";
import { platform } from "../../src/platform/mod.ts";

declare const Deno: {
  test(name: string, fn: () => Promise<void>): void;
};

function assert(condition: boolean, what: string): void {
  if (!condition) throw new Error(what);
}

const URLS = Array.from(
  { length: 2_000 },
  (_, i) => `https://tempfile.aiquickdraw.com/workers/nano/image_${1_764_000_000_000 + i}_${"a1b2c3d4".repeat(4)}.png`,
);
const TRANSCRIPT = "Добрый день, коллеги! Сегодня обсуждаем бюджет на следующий квартал. 🙂 "
  .repeat(600)
  .slice(0, 40_000);

for (const [name, result] of [
  ["2,000 URLs", { urls: URLS }],
  ["a 40,000-character transcript", { urls: [], text: TRANSCRIPT }],
] as const) {
  Deno.test(`${name}: every result record fits Deno KV, the whole result in one value does not`, async () => {
    const kv = await platform.openKv({ kind: "memory" });
    try {
      const whole = await kv
        .atomic()
        .set(["result", 1, 0, 0], { jobId: "j", ...result })
        .commit()
        .then(
          () => "accepted",
          (error: unknown) => String(error),
        );
      assert(whole !== "accepted", `the whole result (${serializedSize(result)} bytes) was accepted as one value`);
      assert(serializedSize(result) > KV_VALUE_LIMIT, "the whole result is over the limit as measured");

      const { chunks, truncated } = splitResult("j", result);
      assert(!truncated && chunks.length > 1, `split into ${chunks.length} records, truncated: ${truncated}`);
      const op = kv.atomic();
      for (const [i, chunk] of chunks.entries()) {
        assert(serializedSize(chunk) <= RESULT_CHUNK_BUDGET, `record ${i} is over its budget`);
        op.set(["result", 1, 0, i], chunk);
      }
      assert((await op.commit()).ok, "the records were refused");
      const read = await kv.getMany(chunks.map((_, i) => ["result", 1, 0, i]));
      const back = joinResult(
        "j",
        read.map((entry) => entry.value as { jobId: string; urls: string[]; text?: string }),
      );
      assert(JSON.stringify(back) === JSON.stringify(result), "the records do not give the result back");
    } finally {
      kv.close();
    }
  });
}
