// Harness for looking at the editor alone: `npx vite --config renderer/src/allow-list/vite.demo.config.ts`,
// then http://localhost:5181/demo.html (?n=1000 for a long list, ?vars=none for the CSS fallbacks,
// ?width=360 for the app's narrow right column, ?empty, ?disabled, ?loading, ?error). Not part of the app bundle.
import { StrictMode, useState } from 'react';
import { createRoot } from 'react-dom/client';
import {
  AllowListEditor,
  type Chip,
  type ChipGroup,
  type GuardMode,
  type ObservedSource,
} from './allow-list-editor';
import { wouldBlock } from './validate';

const params = new URLSearchParams(location.search);
if (params.get('vars') === 'none') document.documentElement.classList.add('no-vars');

const groups: ChipGroup[] = [
  {
    name: 'office',
    entries: [
      { cidr: '198.18.100.0/24', label: 'office-hq' },
      { cidr: '198.18.104.0/24', label: 'office-berlin' },
    ],
  },
  {
    name: 'vpn',
    entries: [
      { cidr: '100.64.10.0/24', label: 'vpn-eu' },
      { cidr: '2001:2:0:10::/64', label: 'vpn-v6' },
    ],
  },
  {
    name: 'lb health checks',
    entries: [
      { cidr: '35.191.0.0/16', label: 'gcp-hc' },
      { cidr: '130.211.0.0/22', label: 'gcp-hc' },
    ],
  },
];

const initialEntries: Chip[] = [
  { cidr: '198.18.100.0/24', label: 'office-hq' },
  { cidr: '35.191.0.0/16', label: 'gcp-hc' },
  { cidr: '130.211.0.0/22', label: 'gcp-hc' },
  { cidr: '203.0.113.50/32', label: 'partner sftp' },
  { cidr: '2001:2::/48', label: 'vpn6' },
];

const observedNow: ObservedSource[] = [
  { source: '198.18.100.7', count: 42, nodes: ['node1', 'node2', 'node3'] },
  { source: '35.191.8.12', count: 17, nodes: ['node1', 'node2'] },
  { source: '192.0.2.10', count: 3, nodes: ['node2'] },
  { source: '130.211.1.4', count: 9, nodes: ['node3'] },
  { source: '2001:2::17', count: 5, nodes: ['node1'] },
  { source: '203.0.113.50', count: 1, nodes: ['node4'] },
];

function big(n: number): Chip[] {
  return Array.from({ length: n }, (_, i) => ({
    cidr: `10.${(i >> 8) & 255}.${i & 255}.0/24`,
    label: i % 3 === 0 ? `rack-${i}` : undefined,
  })).map((c) => (c.label ? c : { cidr: c.cidr }));
}

function Demo() {
  const n = Number(params.get('n') ?? 0);
  const [entries, setEntries] = useState<Chip[]>(() => {
    if (params.has('empty')) return [];
    return n > 0 ? [...initialEntries, ...big(n)] : initialEntries;
  });
  const [mode, setMode] = useState<GuardMode>('enforce');
  const [savedGroups, setSavedGroups] = useState(groups);
  const [loading, setLoading] = useState(params.has('loading'));
  const [log, setLog] = useState<string[]>([]);
  const note = (line: string) => setLog((l) => [...l.slice(-5), line]);
  const blocked = observedNow.filter((o) => wouldBlock(entries, o.source)).length;
  const warnings = [
    'your own address 198.51.100.23 is not in the list: applying would lock this workstation out of 30001/tcp',
    'IPv6 is left open on node3 (no ip6tables guard): IPv6 sources reach the port unfiltered',
  ];
  return (
    <div className="demo" style={{ maxWidth: params.get('width') ? Number(params.get('width')) : undefined }}>
      <AllowListEditor
        portLabel="30001/tcp default/web:http"
        entries={entries}
        onChange={(next) => {
          setEntries(next);
          note(`onChange: ${next.length} entries`);
        }}
        groups={savedGroups}
        observed={observedNow}
        observedLoading={loading}
        observedError={params.has('error') ? 'node2: conntrack: permission denied' : undefined}
        onRefreshObserved={() => {
          setLoading(true);
          setTimeout(() => setLoading(false), 800);
        }}
        onSaveGroup={(name, chips) => {
          setSavedGroups((g) => [...g.filter((x) => x.name !== name), { name, entries: chips }]);
          note(`saved group ${name}`);
        }}
        mode={mode}
        onModeChange={(m) => {
          setMode(m);
          note(`mode: ${m}`);
        }}
        warnings={warnings}
        disabled={params.has('disabled')}
      />
      <div className="demo-log" data-testid="demo-log">
        {`${blocked} observed sources blocked\n`}
        {log.join('\n')}
      </div>
    </div>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Demo />
  </StrictMode>,
);
