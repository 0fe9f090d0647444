// The searchable NodePort list, virtualised: only the rows in view are in the DOM, so 5,000
// NodePorts scroll and filter like 50. Arrow keys move the selection; the filter box is `/`.
import { useVirtualizer } from '@tanstack/react-virtual';
import { type KeyboardEvent, type ReactNode, useDeferredValue, useMemo, useRef } from 'react';
import { type Filterable, filterRows } from './filter';

export interface NodePortListProps<T extends Filterable> {
  readonly rows: readonly T[];
  readonly rowKey: (row: T) => string;
  readonly renderRow: (row: T) => ReactNode;
  readonly searchText?: (row: T) => string;
  readonly selected?: string;
  readonly onSelect: (key: string) => void;
  readonly filter: string;
  readonly onFilter: (text: string) => void;
}

const ROW_HEIGHT = 52;

export const portKey = (np: { port: number; protocol: string }): string => `${np.protocol}/${np.port}`;

export function NodePortList<T extends Filterable>(props: NodePortListProps<T>) {
  const { rows, rowKey, renderRow, selected, onSelect, filter, onFilter, searchText } = props;
  // Typing stays immediate; the filtered list follows when React has a moment.
  const deferred = useDeferredValue(filter);
  const shown = useMemo(() => filterRows(rows, deferred, searchText), [rows, deferred, searchText]);
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({
    count: shown.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });
  const index = shown.findIndex((r) => rowKey(r) === selected);

  const onKey = (e: KeyboardEvent) => {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    e.preventDefault();
    const next = Math.max(0, Math.min(shown.length - 1, index + (e.key === 'ArrowDown' ? 1 : -1)));
    const row = shown[next];
    if (row) {
      onSelect(rowKey(row));
      virtual.scrollToIndex(next);
    }
  };

  return (
    <nav className="np-list" aria-label="NodePorts">
      <input
        className="search"
        type="search"
        data-testid="nodeport-filter"
        aria-label="Filter NodePorts"
        placeholder={`Filter ${rows.length.toLocaleString()} NodePorts: port, service, state  ( / )`}
        value={filter}
        onChange={(e) => onFilter(e.target.value)}
        onKeyDown={onKey}
      />
      <div
        className="np-scroll"
        ref={scroller}
        role="listbox"
        aria-label={`${shown.length} NodePorts`}
        aria-activedescendant={index >= 0 ? `np-${selected}` : undefined}
        tabIndex={0}
        onKeyDown={onKey}
      >
        <div style={{ height: virtual.getTotalSize(), position: 'relative' }}>
          {virtual.getVirtualItems().map((item) => {
            const row = shown[item.index] as T;
            const key = rowKey(row);
            return (
              <div
                key={key}
                id={`np-${key}`}
                role="option"
                tabIndex={-1}
                aria-selected={key === selected}
                className={`np-item ${key === selected ? 'np-item--active' : ''}`}
                data-testid={`nodeport-${key}`}
                style={{
                  position: 'absolute',
                  top: 0,
                  left: 0,
                  right: 0,
                  height: ROW_HEIGHT,
                  transform: `translateY(${item.start}px)`,
                }}
                onClick={() => onSelect(key)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter' || e.key === ' ') onSelect(key);
                }}
              >
                {renderRow(row)}
              </div>
            );
          })}
        </div>
        {shown.length === 0 && <p className="muted pad">No NodePort matches “{filter}”.</p>}
      </div>
    </nav>
  );
}
