// Endpoint strings as kube-proxy writes them (net.JoinHostPort): `ip:port`, `[ip6]:port`.

/** `ip:port`, or `[ip6]:port` like Go's net.JoinHostPort and kube-proxy's endpoint strings. */
export function joinHostPort(address: string, port: number | undefined): string {
  if (port === undefined) return address;
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** `10.0.0.1:80`, `[fd00::1]:80`, `10.0.0.1`, `fd00::1`: split into address and optional port. */
export function splitHostPort(text: string): { readonly address: string; readonly port?: string } {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return { address: text };
    const rest = text.slice(close + 1);
    return rest.startsWith(':')
      ? { address: text.slice(1, close), port: rest.slice(1) }
      : { address: text.slice(1, close) };
  }
  const colon = text.indexOf(':');
  // More than one colon without brackets is a bare IPv6 address, never address:port.
  if (colon < 0 || text.indexOf(':', colon + 1) >= 0) return { address: text };
  return { address: text.slice(0, colon), port: text.slice(colon + 1) };
}
