// `npm run web`: the same UI in a browser, served from loopback, for machines without Electron.
import { fileURLToPath } from 'node:url';
import { createEngineService } from '../engine/service.js';
import { createDispatcher } from './dispatch.js';
import { startWebHost } from './web-host.js';

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

const portArg = argValue('--port');
const port = portArg === undefined ? 0 : Number(portArg);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`npg web: --port ${portArg}: not a port number (0-65535)`);
  process.exit(2);
}
const staticDir = fileURLToPath(new URL('../renderer/', import.meta.url));
const host = await startWebHost({
  dispatch: createDispatcher(createEngineService()),
  staticDir,
  port,
  token: process.env.NPG_WEB_TOKEN,
});
console.log(`NodePort Guard UI: ${host.url}`);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => void host.close().then(() => process.exit(0)));
}
