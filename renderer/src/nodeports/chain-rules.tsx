// A chain's rules with their line numbers, as the node holds them (text is data: selectable).
import type { ChainRulesView } from '../../../shared/api';
import { inertText } from '../../../shared/text/visible';

export function ChainRules({ chain, onClose }: { chain: ChainRulesView; onClose: () => void }) {
  return (
    <section className="chain-rules" aria-label={`Rules of ${inertText(chain.chain)}`}>
      <header className="panel-head">
        <h3>
          {inertText(chain.chain)}{' '}
          <span className="muted">({chain.family === 'ipv4' ? 'IPv4' : 'IPv6'}, nat)</span>
        </h3>
        <button
          type="button"
          className="button"
          onClick={onClose}
          aria-label={`Close the rules of ${inertText(chain.chain)}`}
        >
          Close
        </button>
      </header>
      <ol className="rules">
        {chain.rules.map((r) => (
          <li key={r.number}>
            <span className="rule-no">{r.number}</span>
            <code>{inertText(r.text)}</code>
            {r.packets !== undefined && <span className="muted"> {r.packets.toLocaleString()} pkts</span>}
          </li>
        ))}
        {chain.rules.length === 0 && <li className="muted">(no rules: the chain is empty)</li>}
      </ol>
    </section>
  );
}
