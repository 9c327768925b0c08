/**
 * Models an admin has hidden (on top of the ones the data hides). The
 * catalog keeps the built index as its base and derives what users see, so
 * showing a model again restores it exactly as the data describes it.
 */
import type { CatalogIndex, IndexedModel } from "./build.ts";

/** The reason operators see for a model an admin hid. */
export const ADMIN_HIDDEN_REASON = "hidden by an admin";

/** The index users see: `base` with the models in `hidden` taken out of menus, cards, quotes and plans. */
export function withAdminHidden(base: CatalogIndex, hidden: ReadonlySet<string>): CatalogIndex {
  if (hidden.size === 0) return base;
  const models = new Map<string, IndexedModel>();
  for (const [id, indexed] of base.models) {
    models.set(
      id,
      hidden.has(id) && indexed.visible ? { ...indexed, visible: false, hiddenReason: ADMIN_HIDDEN_REASON } : indexed,
    );
  }
  const bySection = new Map<string, readonly IndexedModel[]>();
  for (const [section, list] of base.bySection)
    bySection.set(
      section,
      list.filter((indexed) => !hidden.has(indexed.model.id)),
    );
  const adminHidden = [...hidden]
    .filter((id) => base.models.get(id)?.visible === true)
    .map((id) => ({ id, reason: ADMIN_HIDDEN_REASON }));
  return { ...base, models, bySection, hidden: [...base.hidden, ...adminHidden] };
}
