// shared/ has no DOM or Node types, yet the contract names the AbortSignal both runtimes provide.
// This declares the one member shared/ relies on; it merges with the full DOM / Node declaration
// wherever those are loaded.
interface AbortSignal {
  readonly aborted: boolean;
}
