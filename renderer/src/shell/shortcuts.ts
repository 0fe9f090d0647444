// Keyboard shortcuts of the workspace (pure mapping, tested): single keys act only when the
// focus is not in a text field, so typing an address never triggers one.
export type Action =
  | 'filter'
  | 'refresh'
  | 'plan'
  | 'save'
  | 'verify'
  | 'watch'
  | 'export'
  | 'history'
  | 'help'
  | 'close';

export const SHORTCUTS: readonly { keys: string; action: Action; what: string }[] = [
  { keys: '/', action: 'filter', what: 'Find a NodePort (port, service, state)' },
  { keys: 'R', action: 'refresh', what: 'Read every node again' },
  { keys: 'Ctrl+S', action: 'save', what: 'Save the allow-list and plan' },
  { keys: 'P', action: 'plan', what: 'Plan' },
  { keys: 'V', action: 'verify', what: 'Verify' },
  { keys: 'W', action: 'watch', what: 'Watch for drift on / off' },
  { keys: 'E', action: 'export', what: 'Export' },
  { keys: 'H', action: 'history', what: 'History' },
  { keys: '?', action: 'help', what: 'This sheet' },
  { keys: 'Esc', action: 'close', what: 'Close this sheet' },
];

export interface KeyInput {
  readonly key: string;
  readonly ctrlKey: boolean;
  readonly metaKey: boolean;
  readonly altKey: boolean;
  /** The focus is in an input, textarea, select or contenteditable. */
  readonly inField: boolean;
}

export function actionFor(e: KeyInput): Action | undefined {
  if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === 's') return 'save';
  if (e.key === 'Escape') return 'close';
  if (e.inField || e.ctrlKey || e.metaKey || e.altKey) return undefined;
  switch (e.key) {
    case '/':
      return 'filter';
    case '?':
      return 'help';
    case 'r':
    case 'R':
      return 'refresh';
    case 'p':
    case 'P':
      return 'plan';
    case 'v':
    case 'V':
      return 'verify';
    case 'w':
    case 'W':
      return 'watch';
    case 'e':
    case 'E':
      return 'export';
    case 'h':
    case 'H':
      return 'history';
    default:
      return undefined;
  }
}
