/**
 * A Bot API request body as the server reads it: JSON (grammY's choice
 * without files; a lone surrogate arrives as a `\udXXX` escape and stays
 * one after decoding), or multipart form data when files are uploaded
 * (fields are strings there; the JSON-valued ones are decoded).
 */

/** Fields the Bot API reads as JSON when they come as form fields. */
const JSON_FIELDS = new Set([
  "reply_markup",
  "media",
  "prices",
  "entities",
  "caption_entities",
  "link_preview_options",
  "reply_parameters",
  "suggested_tip_amounts",
]);

/** An uploaded file's field and name. */
export interface UploadedFile {
  readonly field: string;
  readonly fileName: string;
  readonly bytes: number;
}

export interface DecodedBody {
  readonly payload: Record<string, unknown>;
  readonly files: readonly UploadedFile[];
  readonly multipart: boolean;
}

/** Decodes a request body of `contentType`; an unreadable body reads as no parameters, as Telegram's. */
export function decodeBody(contentType: string | null | undefined, bytes: Uint8Array): DecodedBody {
  const boundary = contentType?.match(/^multipart\/form-data;\s*boundary=(.+)$/i)?.[1];
  if (boundary === undefined) {
    const text = new TextDecoder().decode(bytes);
    if (text.trim() === "") return { payload: {}, files: [], multipart: false };
    try {
      const parsed = JSON.parse(text) as unknown;
      const payload = typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {};
      return { payload, files: [], multipart: false };
    } catch {
      return { payload: {}, files: [], multipart: false };
    }
  }
  return { ...multipartFields(bytes, boundary.replace(/^"|"$/g, "")), multipart: true };
}

/**
 * grammY writes multipart headers tersely (`content-disposition:form-data;name="x";filename=y`),
 * which Node 20's `Request.formData()` rejects, so the parts are split here.
 */
function multipartFields(bytes: Uint8Array, boundary: string): Omit<DecodedBody, "multipart"> {
  let latin1 = "";
  for (let i = 0; i < bytes.length; i += 8192) latin1 += String.fromCharCode(...bytes.subarray(i, i + 8192));
  const payload: Record<string, unknown> = {};
  const files: UploadedFile[] = [];
  for (const chunk of latin1.split(`--${boundary}`).slice(1, -1)) {
    const headEnd = chunk.indexOf("\r\n\r\n");
    if (headEnd < 0) continue;
    const head = chunk.slice(0, headEnd);
    const name = head.match(/name="([^"]*)"/)?.[1] ?? head.match(/name=([^;\r\n]*)/)?.[1] ?? "";
    const fileName = head.match(/filename="?([^";\r\n]*)"?/)?.[1];
    const raw = chunk.slice(headEnd + 4, -2);
    if (fileName !== undefined) {
      files.push({ field: name, fileName, bytes: raw.length });
      continue;
    }
    const value = new TextDecoder().decode(Uint8Array.from(raw, (c) => c.charCodeAt(0)));
    payload[name] = JSON_FIELDS.has(name) ? parseJson(value) : value;
  }
  return { payload, files };
}

function parseJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
