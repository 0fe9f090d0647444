// The layout worker: elkjs's own worker script, which answers elk-api.js's messages (see
// layout.ts). In a worker, elk-worker.min.js installs its dispatcher as `self.onmessage`.
import 'elkjs/lib/elk-worker.min.js';
