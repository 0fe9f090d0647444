// Export for the ticket: the applied rule sets per node, the install script and export.json;
// copy one to the clipboard, download it, or have the engine write them all to a folder.
import { useState } from 'react';
import { useRollout } from './rollout-store';

function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function ExportTab() {
  const s = useRollout();
  const [dir, setDir] = useState('');
  const [copied, setCopied] = useState<string | undefined>();
  const [shown, setShown] = useState<string | undefined>();
  const files = s.exported?.files ?? [];
  const file = files.find((f) => f.name === shown) ?? files[0];
  return (
    <div className="tab-body">
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          void s.runExport(dir.trim() || undefined);
        }}
      >
        <button
          type="submit"
          className="button button--primary"
          disabled={Boolean(s.busy)}
          data-testid="export"
        >
          {s.busy === 'export' ? 'Reading the nodes…' : 'Export applied rules'}
        </button>
        <label className="inline">
          and write them to folder
          <input
            value={dir}
            onChange={(e) => setDir(e.target.value)}
            placeholder="(optional) /tmp/npg-export"
            aria-label="Folder to write the export to"
          />
        </label>
        {s.exported?.writtenTo && <span className="muted">written to {s.exported.writtenTo}</span>}
      </form>
      {files.length > 0 && (
        <div className="export">
          <div className="file-list" role="tablist" aria-label="Exported files">
            {files.map((f) => (
              <button
                key={f.name}
                type="button"
                role="tab"
                aria-selected={f.name === file?.name}
                className={`chip-button ${f.name === file?.name ? 'chip-button--on' : ''}`}
                onClick={() => setShown(f.name)}
              >
                {f.name}
              </button>
            ))}
          </div>
          {file && (
            <>
              <div className="row">
                <button
                  type="button"
                  className="button"
                  onClick={() =>
                    void navigator.clipboard?.writeText(file.text).then(
                      () => setCopied(file.name),
                      () => setCopied(undefined),
                    )
                  }
                >
                  {copied === file.name ? 'Copied' : 'Copy'}
                </button>
                <button type="button" className="button" onClick={() => download(file.name, file.text)}>
                  Save {file.name}
                </button>
              </div>
              <pre className="file-text" data-testid="export-text">
                {file.text}
              </pre>
            </>
          )}
        </div>
      )}
    </div>
  );
}
