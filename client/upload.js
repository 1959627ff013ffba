// Attachments on the client, one module for the widget and the inbox (docs/protocol.md, Attachments): the size limit and type allow-list (held to src/attachments.rs by tests/integration/client-protocol.test.js), the upload request, the signed URLs asked of the desk (`attachment_url`), and a file's DOM: an image as a thumbnail, anything else as a download link, never markup.

/** The largest file, in bytes (`attachments::MAX_ATTACHMENT_BYTES`); larger ones are refused `too_large`. */
export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;

/** The allow-list by extension (`attachments::KINDS`): what a file whose browser names no type is sent as. */
export const ATTACHMENT_TYPES = {
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp',
  pdf: 'application/pdf', txt: 'text/plain', log: 'text/plain', csv: 'text/csv', zip: 'application/zip',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

/** The file picker's `accept`: the allowed extensions. */
export const ACCEPT = Object.keys(ATTACHMENT_TYPES).map((ext) => '.' + ext).join(',');

/** What a refused upload's code says to a person, the same words on both sides. */
export const UPLOAD_ERRORS = {
  too_large: 'Not sent: files may be at most 10 MB.',
  bad_type: 'Not sent: images, PDF, text, CSV, ZIP, Word and Excel files only.',
  rate_limited: 'Not sent: too many files for now, try again later.',
  storage_full: 'Not sent: there is no room for more files right now.',
};
export const uploadError = (code) => UPLOAD_ERRORS[code] || 'Not sent: the file could not be uploaded.';

/** The type a file is sent as: the browser's when it is on the list, else the one its extension names. */
export function fileType(file) {
  const declared = String(file.type || '').toLowerCase();
  if (Object.values(ATTACHMENT_TYPES).includes(declared)) return declared;
  return ATTACHMENT_TYPES[String(file.name || '').split('.').pop().toLowerCase()] || declared;
}

/** Why the desk would refuse `file` before it is sent ('too_large', 'bad_type'), or ''. */
export function refusal(file) {
  if (file.size > MAX_ATTACHMENT_BYTES) return 'too_large';
  return Object.values(ATTACHMENT_TYPES).includes(fileType(file)) ? '' : 'bad_type';
}

/**
 * POSTs `file` to the upload endpoint `url` with `params` (a visitor's `ticket`, an agent's `userId`)
 * and its name and type in the query. The body is sent without a Content-Type (a simple request from a
 * customer's site: no preflight). Resolves { status, body }; status 0: no answer.
 */
export async function uploadFile(url, file, params, init = {}) {
  const query = new URLSearchParams({ ...params, name: file.name || 'file', type: fileType(file) });
  try {
    const response = await fetch(url + '?' + query, { method: 'POST', cache: 'no-store', body: file.slice(0, file.size, ''), ...init });
    let body = {};
    try { body = await response.json(); } catch { /* judged by the status */ }
    return { status: response.status, body: body || {} };
  } catch {
    return { status: 0, body: {} };
  }
}

/** A message's `attachment` as sent by the desk, checked; undefined when there is none or it is malformed. */
export function attachmentOf(value) {
  if (!value || typeof value.id != 'string' || typeof value.name != 'string' || typeof value.type != 'string') return undefined;
  return { id: value.id, name: value.name.slice(0, 100), size: Number(value.size) || 0, type: value.type };
}

/**
 * Signed URLs by attachment id: each asked of the desk once (`ask(id)` sends `attachment_url`, and
 * returns false while the socket is down), kept until shortly before it expires. `put` takes an
 * `attachment_url` frame (or an upload's answer); `retry` asks again for those still waiting.
 */
export function createAttachmentUrls(ask) {
  const known = new Map(), waiting = new Map();
  return {
    put({ id, url, expiresAt }) {
      if (typeof id != 'string' || typeof url != 'string') return;
      known.set(id, { url, expiresAt: Number(expiresAt) || 0 });
      for (const use of waiting.get(id) || []) use(url);
      waiting.delete(id);
    },
    get(id, use) {
      const found = known.get(id);
      if (found && found.expiresAt - Date.now() > 30000) return use(found.url);
      if (!waiting.has(id)) waiting.set(id, []);
      waiting.get(id).push(use);
      if (waiting.get(id).length == 1) ask(id);
    },
    retry() { for (const id of waiting.keys()) ask(id); },
  };
}

const sizeLabel = (bytes) => (bytes < 1024 * 1024 ? Math.max(1, Math.round(bytes / 1024)) + ' KB' : (bytes / 1048576).toFixed(1) + ' MB');

/**
 * A file's DOM: an image is a thumbnail (<img> with the signed URL) inside a link to it, any other
 * file a download link "name · size". The URL is filled in once known (resolved against `base`,
 * the desk's origin); names go in as text and attributes only.
 */
export function attachmentNode(attachment, createElement, urls, base) {
  const link = createElement('a');
  link.className = 'attachment';
  link.target = '_blank';
  link.rel = 'noopener noreferrer';
  let image = null;
  if (/^image\//.test(attachment.type)) {
    image = createElement('img');
    image.alt = attachment.name;
    link.append(image);
  } else {
    link.textContent = attachment.name + ' · ' + sizeLabel(attachment.size);
    link.download = attachment.name;
  }
  urls.get(attachment.id, (url) => {
    link.href = new URL(url, base).href;
    if (image) image.src = link.href;
  });
  return link;
}
