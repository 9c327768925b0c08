/** Small pieces every screen uses: labels of fields and values, durations, button builders. */
import type { Action } from "./callback-data.ts";
import type { Button, ViewContext } from "./render.ts";

/** Builds a button from a translation key and an action. */
export type ButtonOf = (key: string, action: Action) => Button;

export function fieldLabel(field: string, ctx: ViewContext): string {
  const label = ctx.t(ctx.lang, `field-${field}`);
  return label === `field-${field}` ? field : label;
}

export function valueLabel(value: unknown, ctx: ViewContext): string {
  if (value === undefined) return ctx.t(ctx.lang, "param-default");
  if (typeof value === "boolean") return ctx.t(ctx.lang, value ? "btn-yes" : "btn-no");
  return String(value);
}

export function duration(seconds: number, ctx: ViewContext): string {
  return seconds < 90
    ? ctx.t(ctx.lang, "time-seconds", { n: seconds })
    : ctx.t(ctx.lang, "time-minutes", { n: Math.round(seconds / 60) });
}
