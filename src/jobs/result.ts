/**
 * A finished job's result in KV: its URLs and text split over result
 * records, each under {@link RESULT_CHUNK_BUDGET}, at most
 * {@link MAX_RESULT_CHUNKS} of them, written in the commit of the job's
 * success. Two thousand URLs or a transcript of forty thousand characters
 * take a few records; no one value grows with the result.
 */
import { z } from "zod";
import type { JobResult } from "./job.ts";
import { MAX_RESULT_CHUNKS, RESULT_CHUNK_BUDGET, serializedSize } from "./kv-size.ts";

export const ResultChunk = z.object({
  jobId: z.string(),
  urls: z.array(z.string()),
  /** A piece of the text result; the pieces joined in chunk order are the text. */
  text: z.string().optional(),
});
export type ResultChunk = z.infer<typeof ResultChunk>;

/** Longest result URL kept (longer ones cannot be sent to Telegram anyway). */
export const MAX_RESULT_URL = 2_048;

/** UTF-16 units of text in one chunk: two bytes each at worst, with room for the chunk's other fields. */
const TEXT_UNITS_PER_CHUNK = Math.floor((RESULT_CHUNK_BUDGET - 1_024) / 2);

/** The result's records; `truncated` when it was larger than {@link MAX_RESULT_CHUNKS} records hold. */
export function splitResult(jobId: string, result: JobResult): { chunks: ResultChunk[]; truncated: boolean } {
  const chunks: ResultChunk[] = [];
  let truncated = false;
  const empty = () => ({ urls: [] as string[], bytes: serializedSize({ jobId, urls: [] }) });
  let current = empty();
  const full = () => chunks.length >= MAX_RESULT_CHUNKS;
  for (const url of result.urls) {
    if (url.length > MAX_RESULT_URL) {
      truncated = true;
      continue;
    }
    // The string, and its index in case the array is written sparse (6 bytes at most), as `serializedSize` counts.
    const bytes = serializedSize(url) + 6;
    if (current.bytes + bytes > RESULT_CHUNK_BUDGET) {
      chunks.push({ jobId, urls: current.urls });
      current = empty();
      if (full()) {
        truncated = true;
        break;
      }
    }
    current.urls.push(url);
    current.bytes += bytes;
  }
  if (current.urls.length > 0) chunks.push({ jobId, urls: current.urls });
  const text = result.text ?? "";
  let at = 0;
  while (at < text.length) {
    let end = Math.min(text.length, at + TEXT_UNITS_PER_CHUNK);
    // Never split a surrogate pair (an emoji) between two records.
    if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end--;
    const piece = text.slice(at, end);
    const last = chunks.at(-1);
    if (
      last !== undefined &&
      last.text === undefined &&
      serializedSize({ ...last, text: piece }) <= RESULT_CHUNK_BUDGET
    ) {
      last.text = piece;
    } else if (full()) {
      truncated = true;
      break;
    } else {
      chunks.push({ jobId, urls: [], text: piece });
    }
    at = end;
  }
  return { chunks, truncated };
}

/** The result the records hold, in chunk order (records of another job are left out). */
export function joinResult(jobId: string, chunks: readonly ResultChunk[]): JobResult {
  const own = chunks.filter((chunk) => chunk.jobId === jobId);
  const urls = own.flatMap((chunk) => chunk.urls);
  const pieces = own.flatMap((chunk) => (chunk.text === undefined ? [] : [chunk.text]));
  return pieces.length === 0 ? { urls } : { urls, text: pieces.join("") };
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}
