// The widget's files: the button, a paste, a drop; each file a fresh ticket then the upload (client/upload.js). The message comes back on the socket.
import { requestTicket } from '../client/protocol.js';
import { refusal, uploadError, uploadFile } from '../client/upload.js';

/**
 * Wires the panel's file inputs. `say(text)` shows (or, empty, hides) a line in the panel; `ready()` is
 * whether the socket has its welcome; `credentials()` what a ticket request presents; `urls` the signed-URL cache.
 */
export function setupFiles({ button, picker, input, panel, say, ready, visitorPath, credentials, urls }) {
  const upload = async (file) => {
    say(refusal(file) && uploadError(refusal(file)));
    if (refusal(file) || !ready()) return;
    const answer = await requestTicket(visitorPath + '/ticket', { body: JSON.stringify(credentials()) });
    const sent = answer.ticket ? await uploadFile(visitorPath + '/upload', file, { ticket: answer.ticket }) : { body: {} };
    if (sent.status == 201) urls.put({ ...sent.body, id: sent.body.attachment.id });
    else say(uploadError(sent.body.code));
  };
  const uploadAll = (files) => { for (const file of files || []) upload(file); };
  button.addEventListener('click', () => picker.click());
  picker.addEventListener('change', () => { uploadAll(picker.files); picker.value = ''; });
  input.addEventListener('paste', (event) => {
    const files = event.clipboardData && event.clipboardData.files;
    if (files && files.length) { event.preventDefault(); uploadAll(files); }
  });
  panel.addEventListener('dragover', (event) => event.preventDefault());
  panel.addEventListener('drop', (event) => { event.preventDefault(); uploadAll(event.dataTransfer && event.dataTransfer.files); });
}
