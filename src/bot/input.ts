/** What a Telegram message offers the wizard: text, or a file with its kind, size and duration. */
import type { Update } from "grammy/types";
import type { MediaItem } from "./state.ts";
import type { WizardInput } from "./wizard.ts";

interface TelegramFile {
  readonly file_id: string;
  readonly file_unique_id: string;
  readonly file_size?: number;
  readonly duration?: number;
}

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

function fileInput(file: TelegramFile, kind: MediaItem["kind"] | "other"): WizardInput {
  const bytes = file.file_size ?? 0;
  const item: MediaItem | undefined =
    kind === "other"
      ? undefined
      : {
          fileId: file.file_id,
          fileUniqueId: file.file_unique_id,
          kind,
          bytes,
          ...(file.duration === undefined ? {} : { seconds: file.duration }),
        };
  return { kind: "file", sentAs: kind, bytes, item };
}
