import { type DragEvent, useState } from 'react';
import { useDump } from './dump-store';

/** Open, drop or paste an iptables-save dump (or `iptables -t nat -S`, or a ticket excerpt). */
export function DumpLoader() {
  const loadDump = useDump((s) => s.loadDump);
  const loading = useDump((s) => s.loading);
  const [paste, setPaste] = useState('');
  const [over, setOver] = useState(false);

  const readFile = (file: File) => loadDump(file, file.name);
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    const file = e.dataTransfer.files[0];
    if (file) void readFile(file);
  };

  return (
    <section
      className={`loader ${over ? 'loader--over' : ''}`}
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
      aria-label="Load rules"
    >
      <h2>Load a node's rules</h2>
      <p className="muted">
        Drop or open <code>iptables-save</code> output (or <code>nft -j list ruleset</code> in kube-proxy's
        nftables mode), or paste <code>iptables -t nat -S</code>, <code>nft list ruleset</code> / a ticket
        excerpt.
      </p>
      <label className="button">
        Open file…
        <input
          type="file"
          hidden
          data-testid="dump-file"
          onChange={(e) => {
            const f = e.target.files?.[0];
            if (f) void readFile(f);
          }}
        />
      </label>
      <textarea
        data-testid="dump-paste"
        placeholder="# paste iptables-save or nft list ruleset output here"
        value={paste}
        onChange={(e) => setPaste(e.target.value)}
        spellCheck={false}
      />
      <button
        type="button"
        className="button button--primary"
        disabled={!paste.trim() || loading}
        onClick={() => void loadDump(paste, 'pasted rules')}
      >
        {loading ? 'Reading…' : 'Inspect pasted rules'}
      </button>
    </section>
  );
}
