// The engine's implementation of shared/api.ts. Each method validates nothing itself (the host's
// dispatcher has parsed the request against the contract) and returns errors as data.
import type {
  ApiResult,
  InspectRequest,
  InspectResponse,
  NpgApi,
  TraceRequest,
  TraceResponse,
} from '../../shared/api.js';
import { inspectDump } from './inspect.js';
import { traceDump } from './trace.js';
import { inspectView } from './views.js';

const badInput = (message: string) => ({ ok: false, error: { code: 'bad-input', message } }) as const;

export function createEngineService(): NpgApi {
  return {
    async inspect(req: InspectRequest): Promise<ApiResult<InspectResponse>> {
      const r = inspectDump({
        text: req.text,
        source: 'rules',
        ...(req.table ? { table: req.table } : {}),
        ...(req.ipsets ? { ipsets: { text: req.ipsets, source: 'ipset list' } } : {}),
        ...(req.ipvs ? { ipvs: { text: req.ipvs, source: 'ipvsadm output' } } : {}),
      });
      return r.ok ? { ok: true, value: inspectView(r.value) } : badInput(r.message);
    },

    async trace(req: TraceRequest): Promise<ApiResult<TraceResponse>> {
      const r = traceDump({
        dump: {
          text: req.text,
          source: 'rules',
          ...(req.ipsets ? { ipsets: { text: req.ipsets, source: 'ipset list' } } : {}),
        },
        src: req.src,
        dst: req.dst,
        dport: req.dport,
        protocol: req.protocol ?? 'tcp',
        ...(req.inInterface ? { inInterface: req.inInterface } : {}),
        localAddresses: req.localAddresses ?? [req.dst],
      });
      return r.ok ? { ok: true, value: r.value.view } : badInput(r.message);
    },
  };
}
