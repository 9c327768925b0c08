/**
 * The app of a user shard worker: hosts the user actors and performs their
 * Bot API calls from this worker, so one update costs one hop from the main
 * thread.
 */
import type { HostApp } from "../../actors/mod.ts";
import { createTelegramApi, type TelegramSettings } from "../telegram/api.ts";
import { performTelegramCall } from "../telegram/call.ts";
import { userBehavior } from "./user-actor.ts";

/** Configuration a shard receives from the supervisor. */
export interface ShardAppData {
  readonly telegram: TelegramSettings;
}

const app: HostApp = {
  createBehaviors({ appData }) {
    const { telegram } = appData as ShardAppData;
    const api = createTelegramApi(telegram);
    return [userBehavior(async (call) => void (await performTelegramCall(api, call)))];
  },
};

export default app;
