// "Add address or CIDR": validated as typed (validate.ts), the error right under the field and tied to it
// (aria-describedby, aria-invalid), Enter adds. Its own state, so typing never re-renders the list.
import { type FormEvent, memo, useId, useMemo, useRef, useState } from 'react';
import type { Chip } from './types';
import { cleanLabel, LABEL_MAX, validateEntry } from './validate';

interface EntryFormProps {
  readonly entries: readonly Chip[];
  readonly disabled: boolean;
  /** Adds the chip; the caller announces it. */
  readonly onAdd: (chip: Chip) => void;
  /** Says why nothing was added (to the editor's live region). */
  readonly onRefused: (message: string) => void;
}

export const EntryForm = memo(function EntryForm({ entries, disabled, onAdd, onRefused }: EntryFormProps) {
  const [text, setText] = useState('');
  const [label, setLabel] = useState('');
  const [tried, setTried] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const id = useId();
  const check = useMemo(() => validateEntry(text, entries), [text, entries]);
  // An empty field is only an error once the user tried to add it.
  const error = !check.ok && (check.reason !== 'empty' || tried) ? check : undefined;
  const notes = check.ok ? check.notes : [];
  const quiet = !error && notes.length === 0;
  const describedBy = [error && `${id}-error`, notes.length > 0 && `${id}-notes`, quiet && `${id}-help`]
    .filter(Boolean)
    .join(' ');

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (disabled) return;
    if (!check.ok) {
      setTried(true);
      onRefused(`Not added: ${check.message}`);
      input.current?.focus();
      return;
    }
    const chipLabel = cleanLabel(label);
    onAdd(chipLabel ? { cidr: check.cidr, label: chipLabel } : { cidr: check.cidr });
    setText('');
    setLabel('');
    setTried(false);
    input.current?.focus();
  };

  const use = (value: string) => {
    setText(value);
    input.current?.focus();
  };

  return (
    <form className="ale-form" onSubmit={submit} noValidate>
      <div className="ale-form-row">
        <div className="ale-field ale-field--address">
          <label htmlFor={`${id}-address`}>Add address or CIDR</label>
          <input
            ref={input}
            id={`${id}-address`}
            className="ale-input ale-mono"
            data-testid="allow-input"
            value={text}
            onChange={(e) => setText(e.target.value)}
            placeholder="198.18.100.7 or 2001:2::/48"
            autoComplete="off"
            spellCheck={false}
            maxLength={100}
            disabled={disabled}
            aria-invalid={error ? true : undefined}
            aria-describedby={describedBy}
          />
        </div>
        <div className="ale-field ale-field--label">
          <label htmlFor={`${id}-label`}>Label (optional)</label>
          <input
            id={`${id}-label`}
            className="ale-input"
            data-testid="allow-label-input"
            value={label}
            onChange={(e) => setLabel(e.target.value)}
            placeholder="office"
            autoComplete="off"
            maxLength={LABEL_MAX}
            disabled={disabled}
          />
        </div>
        <button
          type="submit"
          className="ale-button ale-button--primary"
          data-testid="allow-add"
          disabled={disabled}
        >
          Add
        </button>
      </div>
      <div className="ale-feedback">
        {error && (
          <p id={`${id}-error`} className="ale-error" data-testid="allow-error">
            {error.message}
          </p>
        )}
        {error && error.suggestions.length > 0 && (
          <div className="ale-suggestions">
            {error.suggestions.map((s) => (
              <button
                key={s}
                type="button"
                className="ale-button ale-button--small"
                data-testid="allow-suggest"
                onClick={() => use(s)}
              >
                Use <span className="ale-mono">{s}</span>
              </button>
            ))}
          </div>
        )}
        {notes.length > 0 && (
          <ul id={`${id}-notes`} className="ale-notes" data-testid="allow-note">
            {notes.map((n) => (
              <li key={n.kind} className={n.kind === 'spelling' ? 'ale-muted' : undefined}>
                {n.message}
              </li>
            ))}
          </ul>
        )}
        {quiet && (
          <p id={`${id}-help`} className="ale-help">
            IPv4 or IPv6, address or CIDR. Enter adds.
          </p>
        )}
      </div>
    </form>
  );
});
