/** The user actor's rules for tests of its pure core: the defaults a deployment starts with. */
import type { UserRules } from "../../src/bot/job-core.ts";
import { DEFAULT_DEADLINES } from "../../src/jobs/job.ts";

export function testUserRules(overrides: Partial<UserRules> = {}): UserRules {
  return {
    free: { dailyLimit: 5, timeZone: "Europe/Moscow" },
    deadlines: DEFAULT_DEADLINES,
    pollFirstMs: 3_000,
    maxOpenJobs: 3,
    referralBonus: 10,
    welcomeGiftKopecks: 0,
    adminIds: [],
    instanceId: "instance-a",
    ...overrides,
  };
}
