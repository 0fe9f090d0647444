// The diagram's node and edge, as React Flow draws them. They take our own data (see to-flow.ts
// for the mapping); only React Flow's components are used here, none of its types.
import { EdgeLabelRenderer, Handle, Position } from '@xyflow/react';
import { memo } from 'react';
import { type EdgeGeometry, stepEdge } from './edge-path';
import { nodeCounters } from './format';
import type { GNodeKind } from './graph-types';
import type { LaidOutEdge, LaidOutNode } from './layout';

const cls = (...names: (string | false | undefined)[]) => names.filter(Boolean).join(' ');

/** Kinds drawn small (many of them, or one line says it all): no role line. */
const COMPACT: ReadonlySet<GNodeKind> = new Set(['sep', 'endpoint', 'blackhole', 'reject']);

export const ChainNode = memo(function ChainNode({ data }: { data: { node: LaidOutNode } }) {
  const n = data.node;
  const compact = COMPACT.has(n.kind);
  const counters = n.counters ? nodeCounters(n.counters.packets, n.counters.bytes) : undefined;
  return (
    <div
      className={cls(
        'dg-node',
        `dg-node--${n.kind}`,
        n.lit && 'is-lit',
        n.dimmed && 'is-dimmed',
        n.chain && 'is-chain',
      )}
      title={n.detail}
    >
      <Handle type="target" position={Position.Left} isConnectable={false} className="dg-handle" />
      {!compact && (
        <div className="dg-node__head">
          <span className="dg-node__role" title={n.role}>
            {n.role}
          </span>
          {n.badges.map((b) => (
            <span key={b.text} className={`dg-badge dg-badge--${b.tone}`} title={b.title}>
              {b.text}
            </span>
          ))}
        </div>
      )}
      <div className="dg-node__label nodrag nopan">{n.label}</div>
      {compact ? (
        (counters ?? n.sublabel) && <div className="dg-node__sub">{counters ?? n.sublabel}</div>
      ) : (
        <>
          {n.sublabel && (
            <div className={cls('dg-node__sub', n.kind === 'foreign' && 'dg-node__rule nodrag nopan')}>
              {n.sublabel}
            </div>
          )}
          {counters && <div className="dg-node__counters">{counters}</div>}
        </>
      )}
      <Handle type="source" position={Position.Right} isConnectable={false} className="dg-handle" />
    </div>
  );
});

/** Moves the label box so that its anchor point (see EdgeGeometry) lands on (labelX, labelY). */
const LABEL_SHIFT: Readonly<Record<EdgeGeometry['labelAnchor'], string>> = {
  end: 'translate(-100%, calc(-100% - 1px))',
  middle: 'translate(-50%, calc(-100% - 1px))',
  trunk: 'translate(-100%, -50%)',
};

export interface ChainEdgeProps {
  readonly id: string;
  readonly sourceX: number;
  readonly sourceY: number;
  readonly targetX: number;
  readonly targetY: number;
  readonly data?: { edge: LaidOutEdge };
}

export const ChainEdge = memo(function ChainEdge({
  sourceX,
  sourceY,
  targetX,
  targetY,
  data,
}: ChainEdgeProps) {
  const e = data?.edge;
  const g = stepEdge(sourceX, sourceY, targetX, targetY, {
    ...(e?.wrapY === undefined ? {} : { wrapY: e.wrapY }),
    labelAtTrunk: e?.kind === 'block',
  });
  const state = cls(`dg-edge--${e?.kind ?? 'normal'}`, e?.lit && 'is-lit', e?.dimmed && 'is-dimmed');
  return (
    <>
      <g className={cls('dg-edge', state)}>
        <path d={g.path} className="dg-edge__line" fill="none" />
        <path d={g.arrow} className="dg-edge__arrow" />
      </g>
      {e?.label && (
        <EdgeLabelRenderer>
          <div
            className={cls('dg-edge-label', state)}
            style={{
              transform: `${LABEL_SHIFT[g.labelAnchor]} translate(${g.labelX}px, ${g.labelY}px)`,
            }}
          >
            {e.label}
          </div>
        </EdgeLabelRenderer>
      )}
    </>
  );
});
