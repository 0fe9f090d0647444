// The text view of a NodePort's path (kept as the fallback beside the diagram): left to right,
// fanning out to endpoints; foreign rules in front of kube-proxy named in their place.
import type { NodePortView, PathStepView } from '../../../shared/api';
import { inertText } from '../../../shared/text/visible';
import { ROLE } from '../diagram/graph-model';

const KIND_CLASS: Record<string, string> = {
  NPG: 'step--guard',
  foreign: 'step--foreign',
  'KUBE-SEP': 'step--sep',
};

function Step({ step, onClick }: { step: PathStepView; onClick?: (chain: string) => void }) {
  const body = (
    <>
      {step.kind !== step.chain && <div className="step-kind">{ROLE[step.kind] ?? step.kind}</div>}
      <div className="step-chain">{inertText(step.chain)}</div>
      {step.packets !== undefined && (
        <div className="step-counters">
          {step.packets.toLocaleString()} pkts · {(step.bytes ?? 0).toLocaleString()} B
        </div>
      )}
    </>
  );
  return onClick ? (
    <button
      type="button"
      className={`step ${KIND_CLASS[step.kind] ?? ''}`}
      title={step.via}
      onClick={() => onClick(step.chain)}
      aria-label={`${inertText(step.chain)}: show its rules`}
    >
      {body}
    </button>
  ) : (
    <div className={`step ${KIND_CLASS[step.kind] ?? ''}`} title={step.via}>
      {body}
    </div>
  );
}

export function PathView({ np, onChainClick }: { np: NodePortView; onChainClick?: (chain: string) => void }) {
  const notes = [
    ...np.foreign.map(
      (f) =>
        `foreign PREROUTING rule #${f.position} (${f.effect}) stands before kube-proxy: ${inertText(f.rule)}`,
    ),
    ...np.notes,
  ];
  return (
    <section className="path" aria-label={`Packet path for ${np.port}/${np.protocol}`}>
      <div className="path-row">
        {np.path.map((step, i) => (
          <div className="path-cell" key={`${step.chain} ${step.via ?? ''}`}>
            {i > 0 && <span className="arrow">→</span>}
            <Step step={step} onClick={onChainClick} />
          </div>
        ))}
        <span className="arrow">→</span>
        <div className="endpoints">
          {np.endpoints.length === 0 && <div className="endpoint endpoint--none">no endpoints: rejected</div>}
          {np.endpoints.map((ep) => (
            <div className="endpoint" key={ep.address}>
              <span className="endpoint-addr">{ep.address}</span>
              <span className="endpoint-prob">{(ep.probability * 100).toFixed(1)}%</span>
            </div>
          ))}
        </div>
      </div>
      {notes.length > 0 && (
        <ul className="notes">
          {notes.map((n) => (
            <li key={n}>{inertText(n)}</li>
          ))}
        </ul>
      )}
    </section>
  );
}
