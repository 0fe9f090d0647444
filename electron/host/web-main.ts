// `npm run web`: the same UI in a browser, served from loopback, for machines without Electron.
// Errors are one line `npg web: ...` and exit 2, like the CLI's.
import { fileURLToPath } from 'node:url';
import { createEngineService } from '../engine/service.js';
import { createDispatcher } from './dispatch.js';
import { parseWebArgs } from './web-args.js';
import { tokenProblem } from './web-auth.js';
import { startWebHost } from './web-host.js';

function fail(message: string): never {
  console.error(`npg web: ${message}`);
  process.exit(2);
}

let args: ReturnType<typeof parseWebArgs>;
try {
  args = parseWebArgs(process.argv.slice(2));
} catch (err) {
  fail((err as Error).message);
}
const { port, workspacePath } = args;

// Checked here as well as in startWebHost so the message names the variable it came from.
const token = process.env.NPG_WEB_TOKEN;
const problem = token === undefined ? undefined : tokenProblem(token);
if (problem) fail(`NPG_WEB_TOKEN: ${problem}`);

const staticDir = fileURLToPath(new URL('../renderer/', import.meta.url));
let host: Awaited<ReturnType<typeof startWebHost>>;
try {
  host = await startWebHost({
    // The workspace named on the command line is the engine's start workspace (api.startWorkspace),
    // as in the Electron window: one path for both faces.
    dispatch: createDispatcher(createEngineService(workspacePath ? { startWorkspace: workspacePath } : {})),
    staticDir,
    port,
    token,
  });
} catch (err) {
  fail(`cannot serve on 127.0.0.1:${port}: ${(err as Error).message}`);
}
console.log(`NodePort Guard at ${host.url}`);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => void host.close().then(() => process.exit(0)));
}
