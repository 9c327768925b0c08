/**
 * Builds what `npm start` runs (`dist/`, see `tools/build-node.ts`) once
 * before the tests: process tests start the bot as operators do.
 */
import { buildNode } from "../tools/build-node.ts";

export default async function setup(): Promise<void> {
  await buildNode();
}
