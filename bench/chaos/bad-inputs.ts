/**
 * Runs the bad input corpus against an idle bot: every case at once, each
 * from its own probe user, between two snapshots of the whole KV. A case
 * passes when it got its HTTP status, its probe saw what it should (a clear
 * reply, an answered button, or nothing) and no KV entry of its probe
 * changed. A KV change or Bot API call no case accounts for fails the
 * corpus as a whole (`no_side_effects_elsewhere`).
 */
import type { RecordedCall } from "../../tests/helpers/fake-bot-api.ts";
import { type BadInput, badInputCases, type CaseDeps } from "./bad-input-cases.ts";
import { type BotApiWatch, buttonsOf, textOf } from "./bot-api-watch.ts";
import { differences, snapshot } from "./kv-read.ts";
import { wizardIdOf } from "./updates.ts";

export interface BadInputOutcome {
  readonly kind: string;
  readonly pass: boolean;
  readonly status?: number;
  readonly problems: string[];
}

export interface BadInputDeps extends Omit<CaseDeps, "probe"> {
  readonly kvPath: string;
  readonly watch: BotApiWatch;
  /** The first probe user id (probes count up from it). */
  readonly firstProbe: number;
}

const REPLY_MS = 6_000;
/** After the last expected reply: how long to watch for anything else the inputs cause. */
const QUIET_MS = 1_500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function checkBadInputs(deps: BadInputDeps): Promise<BadInputOutcome[]> {
  let nextProbe = deps.firstProbe;
  const cases = badInputCases({ ...deps, probe: () => nextProbe++ });
  const setupProblems = await openWizards(deps, cases);
  await sleep(500);

  const before = await snapshot(deps.kvPath);
  const calls: RecordedCall[] = [];
  const stopListening = deps.watch.listen((call) => calls.push(call));
  const marks = cases.map((item) => (item.userId === undefined ? 0 : deps.watch.mark(item.userId)));
  const statuses = await Promise.all(cases.map((item) => item.send()));
  const seen = await Promise.all(cases.map((item, index) => expectationMet(deps.watch, item, marks[index] ?? 0)));
  await sleep(QUIET_MS);
  stopListening();
  const changes = differences(before, await snapshot(deps.kvPath));

  const probes = new Set(cases.flatMap((item) => (item.userId === undefined ? [] : [item.userId])));
  const answered = new Set(cases.flatMap((item) => (typeof item.expect === "object" ? [queryOf(item)] : [])));
  const outcomes = cases.map((item, index): BadInputOutcome => {
    const problems = [...(setupProblems.get(item.kind) ?? [])];
    const status = statuses[index];
    if (status !== item.status) problems.push(`HTTP ${status}, expected ${item.status}`);
    if (!seen[index]) problems.push(`the probe did not see ${describe(item)}`);
    const own = calls.filter((call) => item.userId !== undefined && Number(call.payload.chat_id) === item.userId);
    if (item.expect === "nothing" && own.length > 0) {
      problems.push(`Bot API calls it should not cause: ${own.map((call) => call.method).join(", ")}`);
    }
    const changed = changes.filter((change) => userOfChange(change) === item.userId);
    if (changed.length > 0) problems.push(`KV changed: ${changed.join("; ")}`);
    return { kind: item.kind, pass: problems.length === 0, status, problems };
  });

  // Whatever no case explains: a call to a chat no probe has, a KV change of no probe.
  const strayCalls = calls.filter((call) => {
    const query = call.payload.callback_query_id ?? call.payload.pre_checkout_query_id;
    if (query !== undefined) return !answered.has(String(query));
    return !probes.has(Number(call.payload.chat_id));
  });
  const strayChanges = changes.filter((change) => !probes.has(userOfChange(change) ?? Number.NaN));
  const stray = [
    ...strayCalls.map((call) => `${call.method} to ${String(call.payload.chat_id)}`),
    ...strayChanges.map((change) => `KV ${change}`),
  ];
  outcomes.push({ kind: "no_side_effects_elsewhere", pass: stray.length === 0, problems: stray });
  return outcomes;
}

/** Brings each wizard case's probe into its model's wizard (a real change of its state, before the snapshot). */
async function openWizards(deps: BadInputDeps, cases: readonly BadInput[]): Promise<Map<string, string[]>> {
  const problems = new Map<string, string[]>();
  await Promise.all(
    cases.map(async (item) => {
      if (item.wizard === undefined || item.userId === undefined) return;
      const press = deps.updates.press(item.userId, `1|g|${item.wizard}`);
      const wizardId = wizardIdOf(press.update_id);
      const since = deps.watch.mark(item.userId);
      await deps.webhook.deliver(press);
      const shown = await deps.watch.waitFor(
        item.userId,
        since,
        (call) => buttonsOf(call).some((data) => data.endsWith(`|${wizardId}`)),
        REPLY_MS,
      );
      if (shown === undefined) problems.set(item.kind, [`the ${item.wizard} wizard did not open (setup)`]);
    }),
  );
  return problems;
}

/** Waits until the probe saw what the case expects ("nothing" is judged afterwards, from the calls). */
async function expectationMet(watch: BotApiWatch, item: BadInput, since: number): Promise<boolean> {
  const expect = item.expect;
  if (expect === "nothing") return true;
  if ("reply" in expect) {
    if (item.userId === undefined) return false;
    const reply = await watch.waitFor(item.userId, since, (call) => expect.reply.test(textOf(call)), REPLY_MS);
    return reply !== undefined;
  }
  const answer = await watch.waitForAnswer(queryOf(item), REPLY_MS);
  if ("refused" in expect) return answer?.payload.ok === false;
  return answer !== undefined;
}

/** The id of the query a case expects answered. */
function queryOf(item: BadInput): string {
  const expect = item.expect;
  if (expect === "nothing" || "reply" in expect) return "";
  return "answered" in expect ? expect.answered : expect.refused;
}

function describe(item: BadInput): string {
  const expect = item.expect;
  if (expect === "nothing") return "nothing";
  if ("reply" in expect) return `a reply matching ${expect.reply}`;
  return "answered" in expect ? "its button answered" : "its pre-checkout refused";
}

/** The user a changed KV key belongs to (its second part, when that is a number), e.g. ["user", 700001]. */
function userOfChange(change: string): number | undefined {
  const key = JSON.parse(change.slice(change.indexOf(" ") + 1)) as unknown[];
  return typeof key[1] === "number" ? key[1] : undefined;
}
