/** Money is integer kopecks everywhere; this formats it for people, at the edge. */
import type { Lang } from "./i18n.ts";

/** "12,34 ₽" (ru) or "12.34 ₽" (en); whole roubles without decimals. */
export function formatRub(kopecks: number, lang: Lang): string {
  const sign = kopecks < 0 ? "−" : "";
  const abs = Math.abs(Math.trunc(kopecks));
  const rub = Math.floor(abs / 100);
  const kop = abs % 100;
  const whole = rub.toLocaleString(lang === "ru" ? "ru-RU" : "en-US");
  return kop === 0
    ? `${sign}${whole} ₽`
    : `${sign}${whole}${lang === "ru" ? "," : "."}${String(kop).padStart(2, "0")} ₽`;
}
