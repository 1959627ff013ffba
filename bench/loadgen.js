// Starting a load generator (`client.js`) as a child process and calling it over IPC: one place
// for run.js, scale.js, cpu.js and memory.js.
import { fork } from 'node:child_process';
import { join } from 'node:path';

const HERE = new URL('.', import.meta.url).pathname;

/**
 * A load generator child for one implementation, with request/response over IPC: `call(cmd, args)`
 * resolves with the child's answer; every call still waiting fails if the child exits.
 * `sources`: local addresses (127.0.0.x) to spread its sockets over.
 */
export function startClient(impl, baseUrl, desk, adminToken, sources = []) {
  const argv = [impl, baseUrl, desk, adminToken, ...(sources.length ? [sources.join(',')] : [])];
  const child = fork(join(HERE, 'client.js'), argv, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting = new Map();
  let next = 0;
  child.on('message', ({ id, result, error }) => {
    const w = waiting.get(id);
    waiting.delete(id);
    if (error) w.reject(new Error(`${impl}: ${error}`)); else w.resolve(result);
  });
  child.on('exit', () => { for (const w of waiting.values()) w.reject(new Error(`${impl} client exited`)); });
  const call = (cmd, a) => new Promise((resolve, reject) => {
    const id = ++next;
    waiting.set(id, { resolve, reject });
    child.send({ id, cmd, args: a });
  });
  return { call, kill: () => child.exitCode === null && child.kill('SIGKILL') };
}
