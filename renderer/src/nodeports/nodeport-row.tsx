// One row of a NodePort list: port, protocol, service, a detail line and state badges.
import { inertText } from '../../../shared/text/visible';
export interface Badge {
  readonly text: string;
  readonly tone: 'guard' | 'ok' | 'warn' | 'bad' | 'plain';
}

export function NodePortRow(props: {
  readonly port: number;
  readonly protocol: string;
  readonly service?: string;
  readonly detail: string;
  readonly badges: readonly Badge[];
}) {
  return (
    <>
      <span className="np-port">
        {props.port}
        <small>/{props.protocol}</small>
      </span>
      <span className="np-service">
        {props.service === undefined ? 'unnamed service' : inertText(props.service)}
      </span>
      <span className="np-meta">
        {props.detail}
        <span className="badges">
          {props.badges.map((b) => (
            <span key={b.text} className={`badge badge--${b.tone}`}>
              {b.text}
            </span>
          ))}
        </span>
      </span>
    </>
  );
}
