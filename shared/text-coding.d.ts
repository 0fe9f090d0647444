// shared/ has no DOM or Node types, yet the wire format turns text into bytes and back with the
// TextEncoder/TextDecoder both runtimes provide. This declares the members shared/ uses; it merges
// with the full DOM / Node declarations wherever those are loaded.
interface TextEncoder {
  encode(input?: string): Uint8Array;
}
declare var TextEncoder: { new (): TextEncoder };
interface TextDecoder {
  decode(input?: Uint8Array): string;
}
declare var TextDecoder: {
  new (label?: string, options?: { fatal?: boolean }): TextDecoder;
};
