/**
 * Callback data: self-describing and versioned (`1|<action>|<args>`), at
 * most 64 bytes, parsed with zod. Buttons keep working after a restart
 * because nothing is looked up in memory; wizard buttons carry the wizard's
 * id, so a button of an old wizard is recognised as outdated.
 */
import { z } from "zod";

const VERSION = "1";

/** What a button asks for. */
export type Action =
  | { readonly a: "menu" }
  | { readonly a: "section"; readonly section: string; readonly page: number }
  | { readonly a: "card"; readonly model: string; readonly page: number }
  | { readonly a: "generate"; readonly model: string }
  | { readonly a: "option"; readonly w: string; readonly i: number }
  | { readonly a: "done"; readonly w: string }
  | { readonly a: "back"; readonly w: string }
  | { readonly a: "params"; readonly w: string }
  | { readonly a: "param"; readonly w: string; readonly i: number }
  | { readonly a: "confirm"; readonly w: string }
  | { readonly a: "go"; readonly w: string }
  | { readonly a: "cancel" }
  | { readonly a: "page"; readonly page: InfoPage }
  | { readonly a: "lang"; readonly lang: "ru" | "en" }
  | { readonly a: "cancelJob"; readonly job: string }
  | { readonly a: "history"; readonly page: number }
  | { readonly a: "entry"; readonly seq: number }
  | { readonly a: "resend"; readonly seq: number }
  | { readonly a: "again"; readonly seq: number }
  | { readonly a: "change"; readonly seq: number }
  | { readonly a: "stars"; readonly i: number }
  | { readonly a: "yoo"; readonly i: number }
  | { readonly a: "yooAmount" }
  | { readonly a: "yooCheck"; readonly attempt: string };

/** Screens reached from the main menu or commands. */
export const INFO_PAGES = ["balance", "topup", "history", "help", "language", "referral", "terms", "support"] as const;
export type InfoPage = (typeof INFO_PAGES)[number];

const CODES = {
  menu: "m",
  section: "s",
  card: "c",
  generate: "g",
  option: "o",
  done: "d",
  back: "b",
  params: "p",
  param: "q",
  confirm: "f",
  go: "y",
  cancel: "x",
  page: "i",
  lang: "l",
  cancelJob: "k",
  history: "h",
  entry: "e",
  resend: "r",
  again: "a",
  change: "z",
  stars: "t",
  yoo: "u",
  yooAmount: "v",
  yooCheck: "w",
} as const satisfies Record<Action["a"], string>;

const id = z.string().regex(/^[A-Za-z0-9._/-]{1,48}$/);
const small = z.coerce.number().int().min(0).max(999);
const wizardId = z.string().regex(/^[a-z0-9]{1,8}$/);
const seq = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const parsers: Record<string, (args: string[]) => Action> = {
  m: () => ({ a: "menu" }),
  s: ([section, page]) => ({ a: "section", section: id.parse(section), page: small.parse(page) }),
  c: ([model, page]) => ({ a: "card", model: id.parse(model), page: small.parse(page) }),
  g: ([model]) => ({ a: "generate", model: id.parse(model) }),
  o: ([w, i]) => ({ a: "option", w: wizardId.parse(w), i: small.parse(i) }),
  d: ([w]) => ({ a: "done", w: wizardId.parse(w) }),
  b: ([w]) => ({ a: "back", w: wizardId.parse(w) }),
  p: ([w]) => ({ a: "params", w: wizardId.parse(w) }),
  q: ([w, i]) => ({ a: "param", w: wizardId.parse(w), i: small.parse(i) }),
  f: ([w]) => ({ a: "confirm", w: wizardId.parse(w) }),
  y: ([w]) => ({ a: "go", w: wizardId.parse(w) }),
  x: () => ({ a: "cancel" }),
  i: ([page]) => ({ a: "page", page: z.enum(INFO_PAGES).parse(page) }),
  l: ([lang]) => ({ a: "lang", lang: z.enum(["ru", "en"]).parse(lang) }),
  k: ([job]) => ({ a: "cancelJob", job: wizardId.parse(job) }),
  h: ([page]) => ({ a: "history", page: small.parse(page) }),
  e: ([n]) => ({ a: "entry", seq: seq.parse(n) }),
  r: ([n]) => ({ a: "resend", seq: seq.parse(n) }),
  a: ([n]) => ({ a: "again", seq: seq.parse(n) }),
  z: ([n]) => ({ a: "change", seq: seq.parse(n) }),
  t: ([i]) => ({ a: "stars", i: small.parse(i) }),
  u: ([i]) => ({ a: "yoo", i: small.parse(i) }),
  v: () => ({ a: "yooAmount" }),
  w: ([attempt]) => ({
    a: "yooCheck",
    attempt: z
      .string()
      .regex(/^y[0-9a-z]{1,10}$/)
      .parse(attempt),
  }),
};

/** Encodes an action; throws if it would not fit Telegram's 64 bytes. */
export function encodeAction(action: Action): string {
  const args: (string | number)[] = (() => {
    switch (action.a) {
      case "menu":
      case "cancel":
        return [];
      case "section":
        return [action.section, action.page];
      case "card":
        return [action.model, action.page];
      case "generate":
        return [action.model];
      case "option":
      case "param":
        return [action.w, action.i];
      case "done":
      case "back":
      case "params":
      case "confirm":
      case "go":
        return [action.w];
      case "page":
        return [action.page];
      case "lang":
        return [action.lang];
      case "cancelJob":
        return [action.job];
      case "history":
        return [action.page];
      case "stars":
      case "yoo":
        return [action.i];
      case "yooAmount":
        return [];
      case "yooCheck":
        return [action.attempt];
      case "entry":
      case "resend":
      case "again":
      case "change":
        return [action.seq];
    }
  })();
  const data = [VERSION, CODES[action.a], ...args].join("|");
  if (new TextEncoder().encode(data).length > 64) throw new Error(`callback data over 64 bytes: ${data}`);
  return data;
}

/** Parses callback data; undefined for anything malformed, unknown or of another version. */
export function decodeAction(data: string | undefined): Action | undefined {
  if (data === undefined || data.length > 64) return undefined;
  const [version, code, ...args] = data.split("|");
  if (version !== VERSION || code === undefined) return undefined;
  const parse = parsers[code];
  if (parse === undefined) return undefined;
  try {
    return parse(args);
  } catch {
    return undefined;
  }
}
