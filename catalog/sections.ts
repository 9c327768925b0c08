/** Menu sections: generation types grouped the way users think of them. */
import type { GenerationType, Localized } from "./schema.ts";

/** A menu section. */
export interface SectionSpec {
  readonly id: string;
  readonly title: Localized;
  readonly types: readonly GenerationType[];
}

/** The sections in menu order. */
export const SECTIONS: readonly SectionSpec[] = [
  { id: "images", title: { ru: "Картинки из текста", en: "Images from text" }, types: ["text-to-image"] },
  {
    id: "edit",
    title: { ru: "Редактирование и ремикс фото", en: "Photo editing and remix" },
    types: ["image-to-image", "image-edit", "outpaint", "background-removal"],
  },
  { id: "video", title: { ru: "Видео из текста", en: "Video from text" }, types: ["text-to-video"] },
  { id: "animate", title: { ru: "Оживить фото", en: "Animate a photo" }, types: ["image-to-video"] },
  {
    id: "audio",
    title: { ru: "Аудио и музыка", en: "Audio and music" },
    types: ["text-to-speech", "speech-to-text", "text-to-sound", "text-to-music", "audio-isolation"],
  },
  { id: "upscale", title: { ru: "Улучшить качество", en: "Upscale and enhance" }, types: ["upscale", "video-upscale"] },
  {
    id: "avatars",
    title: { ru: "Аватары и липсинк", en: "Avatars and lip-sync" },
    types: ["lip-sync", "speech-to-video"],
  },
  {
    id: "video_tools",
    title: { ru: "Видеоинструменты", en: "Video tools" },
    types: ["video-to-video", "video-editing"],
  },
];

/** The virtual section of models with free options. */
export const FREE_SECTION: SectionSpec = { id: "free", title: { ru: "Бесплатно", en: "Free" }, types: [] };

/** The section of a generation type. */
export function sectionOf(type: GenerationType): SectionSpec {
  const section = SECTIONS.find((candidate) => candidate.types.includes(type));
  if (section === undefined) throw new Error(`generation type ${type} belongs to no section`);
  return section;
}
