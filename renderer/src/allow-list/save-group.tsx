// "Save as group": the current chips under a name, inline (no modal), Enter saves, Escape closes.
import { type FormEvent, useId, useState } from 'react';
import type { Chip, ChipGroup } from './types';
import { cleanLabel } from './validate';

interface SaveGroupProps {
  readonly entries: readonly Chip[];
  readonly groups: readonly ChipGroup[];
  readonly disabled: boolean;
  readonly onSave: (name: string, entries: Chip[]) => void;
}

export function SaveGroup({ entries, groups, disabled, onSave }: SaveGroupProps) {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const id = useId();
  const clean = cleanLabel(name);
  const exists = clean !== undefined && groups.some((g) => g.name === clean);

  if (!open) {
    return (
      <button
        type="button"
        className="ale-button ale-button--small"
        data-testid="save-group-open"
        disabled={disabled || entries.length === 0}
        onClick={() => setOpen(true)}
      >
        Save as group…
      </button>
    );
  }
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!clean) return;
    onSave(clean, entries.slice());
    setName('');
    setOpen(false);
  };
  return (
    <form
      className="ale-save-group"
      onSubmit={submit}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.preventDefault();
          setOpen(false);
        }
      }}
    >
      <label htmlFor={id} className="ale-visually-hidden">
        Group name for these {entries.length} entries
      </label>
      <input
        id={id}
        className="ale-input ale-input--small"
        value={name}
        onChange={(e) => setName(e.target.value)}
        placeholder="group name"
        maxLength={80}
        // biome-ignore lint/a11y/noAutofocus: the user just opened this field.
        autoFocus
        data-testid="save-group-name"
      />
      <button type="submit" className="ale-button ale-button--small" disabled={!clean}>
        {exists ? 'Replace group' : 'Save'}
      </button>
      <button type="button" className="ale-button ale-button--small" onClick={() => setOpen(false)}>
        Cancel
      </button>
    </form>
  );
}
