// The node-side probe for `npg verify --probe-from NODE`: TCP connects from that node to other
// nodes' NodePorts, with the source address the node's routing picks for each destination. A fixed
// text registered with shippedScript(), like the scripts in node-scripts.ts (kept in its own file so
// that it does not collide with edits to those); values arrive only as positional parameters and
// are checked again here, whatever the engine already checked.
//
// $1: seconds per probe (1-10). Then DST PORT pairs (1-32 pairs): DST an IPv4/IPv6 literal, PORT
// 1-65535. Output (`%%npg` marker lines, read by readProbeReport in shared/guard/probe.ts):
//   %%npg tool bash|nc|none        what connects: bash's /dev/tcp under timeout(1), else nc -z
//   %%npg src DST SRC|-            `ip -o route get DST`'s `src`: the address DST will see
//   %%npg probe DST PORT connected|refused|timeout|unreachable|error [the tool's words]
//   %%npg error WHAT               bad arguments (exit 2)
// Every loop is bounded by the argument count (at most 32 probes, run in parallel, each under
// `timeout`); the fleet's own timeout bounds the whole run.
import { shippedScript } from '../fleet/index.js';

/** Pairs per script run. */
export const PROBE_BATCH = 32;
/** Longest time per probe the script accepts, seconds. */
export const PROBE_MAX_SECONDS = 10;

export const PROBE_SCRIPT = shippedScript(
  `set -u
LC_ALL=C; export LC_ALL
PATH=$PATH:/usr/sbin:/sbin:/usr/bin:/bin; export PATH
m() { printf '%%%%npg %s\\n' "$*"; }
secs=\${1:-}
case $secs in [1-9]|10) ;; *) m error bad-seconds; exit 2 ;; esac
shift
if [ $# -lt 2 ] || [ $# -gt 64 ] || [ $(($# % 2)) -ne 0 ]; then m error bad-count; exit 2; fi
i=0
for a in "$@"; do
  i=$((i + 1))
  if [ $((i % 2)) -eq 1 ]; then
    case $a in *[!0-9A-Fa-f.:]* | '') m error bad-address; exit 2 ;; esac
    case $a in *.* | *:*) ;; *) m error bad-address; exit 2 ;; esac
    [ \${#a} -le 45 ] || { m error bad-address; exit 2; }
  else
    case $a in *[!0-9]* | '' | 0*) m error bad-port; exit 2 ;; esac
    if [ \${#a} -gt 5 ] || [ "$a" -gt 65535 ]; then m error bad-port; exit 2; fi
  fi
done
tool=none
if command -v bash >/dev/null 2>&1 && command -v timeout >/dev/null 2>&1; then tool=bash
elif command -v nc >/dev/null 2>&1; then tool=nc
fi
m tool "$tool"
seen=' '
i=0
for a in "$@"; do
  i=$((i + 1))
  [ $((i % 2)) -eq 1 ] || continue
  case $seen in *" $a "*) continue ;; esac
  seen="$seen$a "
  s=$(ip -o route get "$a" 2>/dev/null | sed -n 's/.* src \\([0-9A-Fa-f.:]*\\).*/\\1/p' | head -n 1)
  m src "$a" "\${s:--}"
done
[ "$tool" = none ] && exit 0
probe() {
  case $tool in
    bash) out=$(timeout "$secs" bash -c 'exec 3<>"/dev/tcp/$1/$2"' npg-probe "$1" "$2" 2>&1); rc=$? ;;
    nc) if command -v timeout >/dev/null 2>&1; then out=$(timeout "$secs" nc -z -v -w "$secs" "$1" "$2" 2>&1); rc=$?
        else out=$(nc -z -v -w "$secs" "$1" "$2" 2>&1); rc=$?; fi ;;
  esac
  w=$(printf '%s' "$out" | tr -c '[:print:]' ' ' | tail -c 200)
  if [ "$rc" -eq 0 ]; then r=connected
  elif [ "$rc" -eq 124 ]; then r=timeout
  else
    case $w in
      *[Rr]efused*) r=refused ;;
      *[Tt]imed\\ out* | *[Tt]imeout*) r=timeout ;;
      *[Nn]o\\ route* | *[Uu]nreachable*) r=unreachable ;;
      *) r=error ;;
    esac
  fi
  m probe "$1" "$2" "$r" "$w"
}
while [ $# -ge 2 ]; do
  probe "$1" "$2" &
  shift 2
done
wait
exit 0
`,
  { name: 'npg-probe', args: [/[1-9]|10/], rest: { pattern: /[0-9A-Fa-f.:]{1,45}/, max: 2 * PROBE_BATCH } },
);
