/** What a Telegram message offers the wizard: text, or a file with its kind, size and duration. */
import type { Update } from "grammy/types";
import { TelegramFile } from "../telegram/update.ts";
import { MediaItem } from "./state.ts";
import type { WizardInput } from "./wizard.ts";

/** Images the models take when sent as a file (not compressed by Telegram). */
const IMAGE_TYPES = /^image\/(jpeg|png|webp)$/;

/** The wizard input of a message; undefined for messages that carry none (stickers, locations...). */
export function inputOf(message: NonNullable<Update["message"]>): WizardInput | undefined {
  if (message.text !== undefined) return { kind: "text", text: message.text };
  const photo = message.photo?.at(-1);
  if (photo) return fileInput(photo, "image");
  if (message.video) return fileInput(message.video, "video");
  if (message.audio) return fileInput(message.audio, "audio");
  if (message.voice) return fileInput(message.voice, "audio");
  const document = message.document;
  if (document === undefined) return undefined;
  const mime = document.mime_type ?? "";
  const kind = IMAGE_TYPES.test(mime)
    ? "image"
    : mime.startsWith("video/")
      ? "video"
      : mime.startsWith("audio/")
        ? "audio"
        : "other";
  return fileInput(document, kind);
}

/**
 * The wizard input of a file. Sizes and durations are parsed again here
 * (the update schema refuses impossible ones first): what the wizard keeps
 * goes into the saved state, which must pass the schema that loads it.
 */
function fileInput(raw: unknown, kind: MediaItem["kind"] | "other"): WizardInput {
  const file = TelegramFile.safeParse(raw);
  if (!file.success) return { kind: "file", sentAs: kind, bytes: 0, item: undefined };
  const { file_id, file_unique_id, file_size, duration } = file.data;
  const bytes = file_size ?? 0;
  const item =
    kind === "other"
      ? undefined
      : MediaItem.safeParse({
          fileId: file_id,
          fileUniqueId: file_unique_id,
          kind,
          bytes,
          ...(duration === undefined ? {} : { seconds: duration }),
        }).data;
  return { kind: "file", sentAs: kind, bytes, item };
}
