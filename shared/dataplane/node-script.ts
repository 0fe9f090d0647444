// The node-side read of the dataplane signs: a POSIX sh snippet spliced into the read script
// (electron/engine/node-scripts.ts: full and plan reads). Shell builtins only: globs over /sys/fs/bpf, `read` of
// /proc/PID/comm and of Cilium's node_config.h; no process is started. It prints
//
//   %%npg sign looked <bpf|proc|cilium-config>   a place that was looked at (so "nothing found" is an answer)
//   %%npg sign <kind> <value>                     kinds: bpf, bpf-global, cilium-link, proc, cilium-define
//
// values only [A-Za-z0-9_.:-], at most MAX_SIGN_LINES sign lines. parse-signs.ts reads them back.
// `NPG_SIGNS_ROOT` (unset on a node) puts a fake tree in front of every path, for tests.
import {
  BPFFS_NAMES,
  CALICO_NAT_MAP_PREFIXES,
  CILIUM_NAT_MAPS,
  CILIUM_NODE_CONFIG,
  CILIUM_NODEPORT_DEFINE,
  CILIUM_SERVICE_MAPS,
  PROCESS_NAMES,
} from './sign-names.js';

export const MAX_SIGN_LINES = 64;
export const MAX_CILIUM_LINKS = 16;
/** Lines of node_config.h read at most (it has a few hundred). */
export const MAX_CONFIG_LINES = 5000;

const SAFE = /^[A-Za-z0-9_.-]+$/;
function literal(names: readonly string[]): readonly string[] {
  for (const n of names) if (!SAFE.test(n)) throw new Error(`unsafe sign name in the node script: ${n}`);
  return names;
}

const globalPaths = [
  ...literal(CILIUM_SERVICE_MAPS).map((n) => `"$dp_g"/${n}`),
  ...literal(CILIUM_NAT_MAPS).map((n) => `"$dp_g"/${n}`),
  ...literal(CALICO_NAT_MAP_PREFIXES).map((n) => `"$dp_g"/${n}*`),
].join(' ');

/**
 * POSIX sh. Needs nothing from the script around it; turns globbing on for itself (the read script
 * runs under `set -f`) and restores the caller's setting. Works under `set -u`. Its variables and
 * functions are prefixed `dp_`/`dps`.
 */
export const DATAPLANE_SIGNS_SCRIPT = `# dataplane signs (shared/dataplane/node-script.ts): builtins only, no process started
case $- in *f*) dp_noglob=1 ;; *) dp_noglob= ;; esac
set +f
dp_root=\${NPG_SIGNS_ROOT-}
dp_n=0
dpl() { printf '%%%%npg sign looked %s\\n' "$1"; }
dps() {
  case $2 in ''|*[!A-Za-z0-9_.:-]*) return 0 ;; esac
  dp_n=$((dp_n + 1))
  if [ "$dp_n" -le ${MAX_SIGN_LINES} ]; then printf '%%%%npg sign %s %s\\n' "$1" "$2"; fi
  return 0
}
dp_b=$dp_root/sys/fs/bpf
# bpffs is mode 0700 on most nodes: without search permission nothing is "looked" at (not "none found").
if [ -d "$dp_b" ] && [ -r "$dp_b" ] && [ -x "$dp_b" ]; then
  dpl bpf
  for dp_x in ${literal(BPFFS_NAMES).join(' ')}; do
    if [ -e "$dp_b/$dp_x" ]; then dps bpf "$dp_x"; fi
  done
  dp_g=$dp_b/tc/globals
  for dp_x in ${globalPaths}; do
    if [ -e "$dp_x" ]; then dps bpf-global "\${dp_x##*/}"; fi
  done
  dp_c=0
  for dp_x in "$dp_b"/cilium/devices/*/links/*; do
    [ -e "$dp_x" ] || continue
    dp_d=\${dp_x%/links/*}
    dp_v=\${dp_d##*/}:\${dp_x##*/}
    case $dp_v in *[!A-Za-z0-9_.:-]*) continue ;; esac
    dp_c=$((dp_c + 1))
    [ "$dp_c" -le ${MAX_CILIUM_LINKS} ] || break
    dps cilium-link "$dp_v"
  done
fi
dp_p=$dp_root/proc
if [ -d "$dp_p" ]; then
  dpl proc
  dp_seen=' '
  for dp_x in "$dp_p"/[0-9]*/comm; do
    dp_v=
    { read -r dp_v <"$dp_x"; } 2>/dev/null
    case $dp_v in
      ${literal(PROCESS_NAMES).join('|')})
        case $dp_seen in
          *" $dp_v "*) ;;
          *) dp_seen="$dp_seen$dp_v "; dps proc "$dp_v" ;;
        esac ;;
    esac
  done
fi
dp_h=$dp_root${CILIUM_NODE_CONFIG}
if [ -r "$dp_h" ]; then
  dpl cilium-config
  dp_c=0
  while read -r dp_a dp_k dp_v; do
    dp_c=$((dp_c + 1))
    [ "$dp_c" -le ${MAX_CONFIG_LINES} ] || break
    if [ "$dp_a" = '#define' ] && [ "$dp_k" = ${literal([CILIUM_NODEPORT_DEFINE]).join('')} ]; then
      dps cilium-define "$dp_k"
      break
    fi
  done <"$dp_h"
fi
if [ -n "$dp_noglob" ]; then set -f; fi
`;
