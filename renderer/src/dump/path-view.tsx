import type { NodePortView, PathStepView } from '../../../shared/api';

const KIND_CLASS: Record<string, string> = {
  NPG: 'step--guard',
  foreign: 'step--foreign',
  'KUBE-SEP': 'step--sep',
};

function Step({ step }: { step: PathStepView }) {
  return (
    <div className={`step ${KIND_CLASS[step.kind] ?? ''}`} title={step.via}>
      {step.kind !== step.chain && <div className="step-kind">{step.kind}</div>}
      <div className="step-chain">{step.chain}</div>
      {step.packets !== undefined && (
        <div className="step-counters">
          {step.packets.toLocaleString()} pkts · {(step.bytes ?? 0).toLocaleString()} B
        </div>
      )}
    </div>
  );
}

/** The chain path a packet for this NodePort takes, left to right, fanning out to endpoints. */
export function PathView({ np }: { np: NodePortView }) {
  return (
    <section className="path" aria-label={`Packet path for ${np.port}/${np.protocol}`}>
      <div className="path-row">
        {np.path.map((step, i) => (
          <div className="path-cell" key={`${step.chain} ${step.via ?? ''}`}>
            {i > 0 && <span className="arrow">→</span>}
            <Step step={step} />
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
      {np.notes.length > 0 && (
        <ul className="notes">
          {np.notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
    </section>
  );
}
