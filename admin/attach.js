// Files from the inbox: the Attach button, a paste into the reply box or a drop on the conversation send each file to the open conversation (as a reply the visitor sees), through the desk's upload endpoint with the agent's credential; the message itself comes back on the socket. Client rules (size, types, words) from client/upload.js.
import { errorLine } from './page.js';
import { ACCEPT, refusal, uploadError, uploadFile } from '../client/upload.js';
import { deskPath } from '../client/protocol.js';

/**
 * ui: { button, picker, input, drop, error }; hooks: { desk, selected() -> userId|null,
 * token() -> the agent's token (null: Cloudflare Access signs the request in), urls (the signed-URL cache) }.
 */
export function setupAttach(ui, { desk, selected, token, urls }) {
  ui.picker.accept = ACCEPT;
  const say = errorLine(ui.error);
  async function upload(file) {
    const userId = selected();
    if (!userId) return;
    const refused = refusal(file);
    say(refused && uploadError(refused));
    if (refused) return;
    const credential = token();
    const headers = credential ? { Authorization: 'Bearer ' + credential } : {};
    const sent = await uploadFile(deskPath(location, desk) + '/admin/upload', file, { userId }, { headers });
    if (sent.status === 201 && sent.body.attachment) urls.put({ ...sent.body, id: sent.body.attachment.id });
    else say(uploadError(sent.body.code));
  }
  const uploadAll = (files) => { for (const file of files || []) upload(file); };
  ui.button.addEventListener('click', () => ui.picker.click());
  ui.picker.addEventListener('change', () => { uploadAll(ui.picker.files); ui.picker.value = ''; });
  ui.input.addEventListener('paste', (e) => {
    const files = e.clipboardData?.files;
    if (files?.length) { e.preventDefault(); uploadAll(files); }
  });
  ui.drop.addEventListener('dragover', (e) => e.preventDefault());
  ui.drop.addEventListener('drop', (e) => { e.preventDefault(); uploadAll(e.dataTransfer?.files); });
}
