// An encrypted key's passphrase or a node's password, asked beside the node list like a host key:
// it never blocks the rest of the window, Enter unlocks, Escape skips. The typed secret lives in
// this component's state only until it is sent, then the field is gone; it is never put in a store.
import { useState } from 'react';
import type { CredentialPromptView } from '../../../shared/api';
import { inertText } from '../../../shared/text/visible';
import { useNodes } from './nodes-store';

export function CredentialPrompts() {
  const prompts = useNodes((s) => s.credentials);
  const note = useNodes((s) => s.credentialNote);
  if (prompts.length === 0 && !note) return null;
  return (
    <div className="prompts">
      {prompts.map((p, i) => (
        <CredentialPrompt key={p.requestId} prompt={p} autoFocus={i === 0} />
      ))}
      {note && (
        <p className="error" role="alert" data-testid="credential-note">
          {note}
        </p>
      )}
    </div>
  );
}

function CredentialPrompt({ prompt: p, autoFocus }: { prompt: CredentialPromptView; autoFocus: boolean }) {
  const answer = useNodes((s) => s.answerCredential);
  const [secret, setSecret] = useState('');
  const [remember, setRemember] = useState(false);
  const id = `cred-${p.requestId}`;
  const what = p.kind === 'passphrase' ? 'Passphrase' : 'Password';
  const subject = inertText(p.subject);
  const title =
    p.kind === 'passphrase'
      ? `Passphrase for key ${subject}`
      : `Password for ${subject}${p.node ? ` (${inertText(p.node)})` : ''}`;
  const send = (value: string | null) => {
    setSecret('');
    void answer(p.requestId, value, value !== null && remember && p.canRemember);
  };
  return (
    <form
      className="prompt"
      role="alertdialog"
      aria-labelledby={`${id}-title`}
      data-testid="credential-prompt"
      onSubmit={(e) => {
        e.preventDefault();
        if (secret.length > 0) send(secret);
      }}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.preventDefault();
          send(null);
        }
      }}
    >
      <h3 id={`${id}-title`}>{title}</h3>
      {p.retry && (
        <p className="error" role="alert">
          That {what.toLowerCase()} was wrong; try again.
        </p>
      )}
      <label className="field" htmlFor={`${id}-input`}>
        {what}
        <input
          id={`${id}-input`}
          type="password"
          autoComplete="off"
          spellCheck={false}
          maxLength={4096}
          // biome-ignore lint/a11y/noAutofocus: the person asked to connect; the question is theirs to answer now
          autoFocus={autoFocus}
          value={secret}
          onChange={(e) => setSecret(e.target.value)}
          data-testid="credential-input"
        />
      </label>
      <label className="inline check">
        <input
          type="checkbox"
          checked={remember && p.canRemember}
          disabled={!p.canRemember}
          onChange={(e) => setRemember(e.target.checked)}
          aria-describedby={p.canRemember ? undefined : `${id}-why`}
          data-testid="credential-remember"
        />
        Remember in the OS keychain
      </label>
      {!p.canRemember && p.rememberRefusal && (
        <p className="muted small" id={`${id}-why`}>
          {p.rememberRefusal}
        </p>
      )}
      <div className="row">
        <button type="submit" className="button button--primary" disabled={secret.length === 0}>
          Unlock
        </button>
        <button type="button" className="button" onClick={() => send(null)}>
          Skip
        </button>
      </div>
    </form>
  );
}
