// Sizes of what we ship: the worker's wasm and JS, the widget and the admin page, raw and gzipped.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const ROOT = new URL('..', import.meta.url).pathname;

function measure(paths) {
  const present = paths.filter((p) => existsSync(p) && statSync(p).isFile());
  if (!present.length) return 'missing';
  const files = present.map((p) => {
    const raw = readFileSync(p);
    return { file: p.slice(ROOT.length), raw: raw.length, gzip: gzipSync(raw, { level: 9 }).length };
  });
  return {
    raw: files.reduce((s, f) => s + f.raw, 0),
    gzip: files.reduce((s, f) => s + f.gzip, 0), // each file gzipped on its own, as served
    files,
  };
}

function listDir(dir) {
  const d = join(ROOT, dir);
  return existsSync(d) ? readdirSync(d).filter((f) => /\.(html|js|css|svg)$/.test(f)).map((f) => join(d, f)) : [];
}

/** { wasm, js, widget, widgetChat, admin }: each { raw, gzip, files } in bytes, or 'missing'. */
export function sizes() {
  return {
    wasm: measure([join(ROOT, 'build/index_bg.wasm')]),
    js: measure([join(ROOT, 'build/index.js')]),
    // What every page view loads: the widget's loader, bundled and minified by `make assets`.
    widget: measure([join(ROOT, 'build/assets/widget.js')]),
    // What an opened (or returning) chat loads besides: the chat file.
    widgetChat: measure([join(ROOT, 'build/assets/widget-chat.js')]),
    // The admin page as served: its own files and the client modules it imports.
    admin: measure([...listDir('admin'), ...listDir('client')]),
  };
}
