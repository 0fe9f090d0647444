// The shell scripts NodePort Guard runs on a node. They are fixed texts, registered with
// shippedScript() at module load, so the fleet lets them (and only them) follow `sh -c`; every
// value reaches them as a positional parameter or on stdin, never as script text.
//
// Node-side layout, per network namespace (netfilter state is per netns, so the saved state and
// the lock are too; on a normal node the root netns has no name and the directory is the base):
//
//   /var/lib/nodeport-guard[/netns/NAME]/
//     lock                    flock: one change at a time on this node
//     saved.v4, saved.v6      the guard state before the last change (saved-state text)
//     saved.nft               the same for the nft guard (table inet nodeport-guard, as JSON)
//     saved.meta              one JSON line: when, which operation, token
//     pending/                a commit-confirmed change waiting for `npg confirm`:
//       token backend deadline timer undo.v4 undo.v6 undo.nft expire.sh
//     expired/, last-expired  the last change the timer rolled back
//
// Output is sections: `%%npg begin NAME` / `%%npg end NAME RC` around a command's output, and
// single `%%npg KEY VALUE...` lines. sections.ts reads them.
import { DATAPLANE_SIGNS_SCRIPT } from '../../shared/dataplane/index.js';
import { shippedScript } from '../fleet/index.js';

/**
 * Where the scripts keep their files: `$d`, and `m` to print a marker line. The netns name comes
 * from comparing our netns with /run/netns/* (`[ -ef ]`, no process: a fork+exec costs ~4 ms on a
 * small VM, and a warm read is a handful of them).
 */
const PRELUDE = `set -u
LC_ALL=C; export LC_ALL
PATH=$PATH:/usr/sbin:/sbin:/usr/bin:/bin; export PATH
m() { printf '%%%%npg %s\\n' "$*"; }
ns=
for f in /run/netns/*; do [ /proc/self/ns/net -ef "$f" ] && { ns=\${f##*/}; break; }; done
case $ns in *[!A-Za-z0-9._-]*) ns=invalid ;; esac
d=/var/lib/nodeport-guard\${ns:+/netns/$ns}
`;

/** `tool v4|v6 save|restore` sets $T: the binary of the backend kube-proxy uses ($kb), else the default. */
const TOOLS = `tool() {
  b=iptables; [ "$1" = v6 ] && b=ip6tables
  T=$b-$2
  if [ "$kb" != default ] && command -v "$b-$kb-$2" >/dev/null 2>&1; then T=$b-$kb-$2; fi
  return 0
}
`;

/** `sec NAME CMD...`: the command's stdout as a section (streamed), its status at the end. */
const SEC = `sec() {
  name=$1; shift
  m begin "$name"
  "$@"; rc=$?
  printf '\\n'; m end "$name" "$rc"
}
`;

/** Our chains in the other backend than kube-proxy's ($kb): they would not order against its rules. */
const OTHER_BACKEND = `other=
case $kb in
  nft)
    # A legacy nat table exists (procfs files have no size: read, do not test -s).
    if [ -r /proc/net/ip_tables_names ] && command -v iptables-legacy >/dev/null 2>&1; then
      while read -r t; do [ "$t" = nat ] && { other=legacy; break; }; done </proc/net/ip_tables_names
    fi ;;
  legacy) if command -v iptables-nft >/dev/null 2>&1; then other=nft; fi ;;
esac
if [ -n "$other" ] && iptables-$other -w -t nat -S NPG-PREROUTING >/dev/null 2>&1; then m guard-other-backend "$other"; fi
`;

/**
 * Listening sockets (TCP LISTEN, unconnected UDP) from procfs, and our node-side state files
 * ($files), and the node's clock when it matters. grep costs a quarter of `ss` here (~2.5 ms of
 * CPU against ~10 ms), and a warm verify runs this on every node. grep's status 1 (no socket) is
 * an answer, not a failure.
 */
const LISTEN_AND_STATE = `sec listen grep -sE '^ *[0-9]+: [0-9A-F]+:[0-9A-F]{4} [0-9A-F]+:[0-9A-F]{4} (0A|07) ' /proc/net/tcp /proc/net/udp /proc/net/tcp6 /proc/net/udp6
# The pending files and last-expired are one short line each: read by the shell, not one cat each
# (saved.* grow with the policy, and dash reads byte by byte: cat for those).
catf() { while IFS= read -r l || [ -n "$l" ]; do printf '%s\\n' "$l"; done <"$1"; }
for f in $files; do
  case $f in saved.*) c=cat ;; *) c=catf ;; esac
  [ -f "$d/$f" ] && sec "state:$f" $c "$d/$f"
done
[ -f "$d/pending/token" ] && m now "$(date +%s)"
`;

/**
 * Read a node: kube-proxy's backend (KUBE-IPTABLES-HINT in mangle, nft first; legacy only if a
 * legacy mangle table exists, so that reading never loads the legacy modules; `-S` of the one
 * chain, because iptables-nft-save of any table fetches the whole ruleset: 0.6 s on a
 * 5,000-service node), the nat tables of both families, addresses, listening sockets and our
 * saved/pending state. $1 is how much:
 *   full   every table (`iptables-save -c`), ipsets/ipvsadm in ipvs mode, `nft -j list table ip[6]
 *          kube-proxy` in nftables mode: discover, rollback, remove
 *   nat    the nat table
 *   plan   PREROUTING, our entry chain and the chains it jumps to (`iptables -S -v` of each), plus
 *          kube-proxy's NodePort chain: enough to plan an apply without reading kube-proxy's
 *          thousands of rules. A chain of ours that nothing jumps to is not read: the apply
 *          declares (flushes) every chain it writes, and each `-S` costs ~7 ms on a big node.
 *   guard  as plan without the NodePort chain, plus $2...: the chains the policy wants (verify)
 * and each may end in `-nft` (nat-nft, plan-nft, guard-nft): also list our nft table, where the
 * workspace guards with it on an iptables or ipvs node.
 * `%%npg chains.v4 ...`
 * lists the chains read, in order, so the change script can read the same ones to check staleness.
 * Sections stream (no temp files); a failing command's message goes to stderr.
 */
export const READ_SCRIPT = shippedScript(
  `${PRELUDE}${TOOLS}what=\${1:-full}
case $what in full|nat|plan|guard|nat-nft|plan-nft|guard-nft) ;; *) m error bad-args; exit 2 ;; esac
# -nft: the workspace guards with our nft table (policy.guardBackend): list it in this read too.
nftwant=
case $what in *-nft) nftwant=yes; what=\${what%-nft} ;; esac
[ $# -gt 0 ] && shift
for c in "$@"; do
  case $c in NPG-*) ;; *) m error bad-args; exit 2 ;; esac
  case $c in *[!A-Z0-9-]*) m error bad-args; exit 2 ;; esac
done
set -f
kb=default
if command -v iptables-nft >/dev/null 2>&1 && iptables-nft -w -t mangle -S KUBE-IPTABLES-HINT >/dev/null 2>&1; then kb=nft
elif grep -qx mangle /proc/net/ip_tables_names 2>/dev/null && command -v iptables-legacy >/dev/null 2>&1 && iptables-legacy -w -t mangle -S KUBE-IPTABLES-HINT >/dev/null 2>&1; then kb=legacy
fi
uid=
while read -r k v rest; do [ "$k" = Uid: ] && { uid=$v; break; }; done </proc/self/status
m dir "$d"
m netns "$ns"
m kube-backend "$kb"
m uid "$uid"
${SEC}dump() {
  tool "$1" save; shift
  "$T" -c "$@"
}
list= kube4=
guardread() {
  fam=$1; tool "$1" save; ipt=\${T%-save}; shift
  list=PREROUTING
  if [ "$fam" = v4 ]; then
    p=$("$ipt" -w -t nat -S PREROUTING -v) || return 1
    printf '%s\n' "$p"
    # kube-proxy's jump in iptables (iptables or ipvs mode): no need to look for its nftables mode.
    case $p in *"-j KUBE-SERVICES"*) kube4=yes ;; esac
  else
    # IPv6 with neither kube-proxy's jump nor ours: nothing of ours can be in front, skip the rest.
    p=$("$ipt" -w -t nat -S PREROUTING -v) || return 1
    printf '%s\n' "$p"
    case $p in *"-j NPG-PREROUTING"*|*"-j KUBE-SERVICES"*) ;; *) return 0 ;; esac
  fi
  pre=$("$ipt" -w -t nat -S NPG-PREROUTING -v 2>/dev/null) && printf '%s\\n' "$pre"
  list="$list NPG-PREROUTING"
  more= prev=
  for w in $pre; do
    case $prev in -j|-g) more="$more $w" ;; esac
    prev=$w
  done
  [ "$what" = guard ] || set --
  for c in $more "$@"; do
    case $c in NPG-*) ;; *) continue ;; esac
    case $c in *[!A-Z0-9-]*) continue ;; esac
    case " $list " in *" $c "*) continue ;; esac
    list="$list $c"
    "$ipt" -w -t nat -S "$c" -v 2>/dev/null
  done
  return 0
}
family() {
  f=$1; shift
  case $what in
    full) sec "$f" dump "$f" ;;
    nat) sec "$f" dump "$f" -t nat ;;
    *) sec "$f" guardread "$f" "$@"; m "chains.$f" $list ;;
  esac
}
np=
nodeports() {
  tool "$1" save; ipt=\${T%-save}
  for c in KUBE-NODEPORTS KUBE-NODE-PORT; do
    if "$ipt" -w -t nat -S "$c" 2>/dev/null; then np=$c; return 0; fi
  done
  np=; return 0
}
family v4 "$@"
np4=
[ "$what" = plan ] && { sec nodeports.v4 nodeports v4; np4=$np; m nodeport-chain.v4 "$np"; }
v6=no
tool v6 save
if command -v "$T" >/dev/null 2>&1 && [ -e /proc/net/if_inet6 ]; then
  v6=yes
  family v6 "$@"
  [ "$what" = plan ] && { sec nodeports.v6 nodeports v6; m nodeport-chain.v6 "$np"; }
fi
${OTHER_BACKEND}ipvs=no kpn=
if [ "$what" = full ] || [ "$what" = plan ]; then
  tool v4 save
  if "\${T%-save}" -w -t nat -S KUBE-NODE-PORT >/dev/null 2>&1; then ipvs=yes; fi
  if [ "$ipvs" = yes ] && command -v ipset >/dev/null 2>&1; then sec ipset ipset list; fi
  if [ "$what" = full ] && [ "$ipvs" = yes ] && command -v ipvsadm >/dev/null 2>&1; then sec ipvs ipvsadm -Ln; fi
  # nftables-mode kube-proxy has neither NodePort chain (nft is slow to start: ask only then).
  [ "$ipvs" = yes ] && np4=KUBE-NODE-PORT
  if [ -z "$np4" ] && [ "$what" = full ] && "\${T%-save}" -w -t nat -S KUBE-NODEPORTS >/dev/null 2>&1; then np4=KUBE-NODEPORTS; fi
  if [ -z "$np4" ] && command -v nft >/dev/null 2>&1; then
    if [ "$what" = full ]; then
      # kube-proxy's own tables as JSON (shared/nftables reads them); the listing is the test too.
      sec nft.v4 nft -j list table ip kube-proxy 2>/dev/null
      if [ "$rc" = 0 ]; then
        m kube-proxy-nftables yes; kpn=yes
        [ "$v6" = yes ] && sec nft.v6 nft -j list table ip6 kube-proxy 2>/dev/null
      fi
    elif nft list table ip kube-proxy >/dev/null 2>&1; then
      m kube-proxy-nftables yes; kpn=yes
    fi
  fi
  m ssh-client "\${SSH_CONNECTION:-}"
fi
# guard and nat reads learn kube-proxy's nftables mode here: a guard read only where iptables'
# PREROUTING has no kube-proxy jump (so iptables and ipvs nodes start no nft there); a nat read
# (export, verify --full, counters) streamed its dump, so it asks. \`list tables\` prints names
# only, where \`list table\` would print all of kube-proxy's rules.
if { [ "$what" = nat ] || { [ "$what" = guard ] && [ -z "$kube4" ]; }; } && command -v nft >/dev/null 2>&1; then
  t=$(nft list tables ip 2>/dev/null)
  case "
$t
" in *"
table ip kube-proxy
"*) m kube-proxy-nftables yes; kpn=yes ;; esac
fi
# Our nft guard (table inet nodeport-guard; absent: nft says no such table, exit 1) where kube-proxy
# runs in nftables mode or the workspace guards with it (-nft), and in every full and plan read
# (remove and rollback find it in any mode; an apply that switches the guard's backend either way
# must see both guards); in guard and nat reads also the base chains, for verify's priority check,
# and in plan reads where the nft guard is to be written, for plan's warning of the same.
# stderr into the section: it says why (absent or failed).
if command -v nft >/dev/null 2>&1 && { [ "$what" = full ] || [ "$what" = plan ] || [ -n "$kpn" ] || [ -n "$nftwant" ]; }; then
  m nft-guard read
  sec nft.guard nft -j list table inet nodeport-guard 2>&1
  case $what in
    guard|nat) sec nft.chains nft -j list chains 2>&1 ;;
    plan) if [ -n "$kpn$nftwant" ]; then sec nft.chains nft -j list chains 2>&1; fi ;;
  esac
fi
sec addr ip -o addr show
# Who serves NodePorts here (Cilium, Calico eBPF, kube-router: shared/dataplane): discover and apply
# say so, and apply refuses a node a netfilter guard may not see. Builtins only, no process.
if [ "$what" = full ] || [ "$what" = plan ]; then
${DATAPLANE_SIGNS_SCRIPT}fi
files="pending/token pending/deadline pending/timer last-expired"
[ "$what" = guard ] || files="saved.v4 saved.v6 saved.nft saved.meta $files"
${LISTEN_AND_STATE}exit 0
`,
  {
    name: 'npg-read',
    args: [/(full|nat|plan|guard)(-nft)?/],
    rest: { pattern: /NPG-[A-Z0-9-]{1,24}/, max: 4096 },
  },
);

/**
 * A repeated verify in the same session, on a node whose kube-proxy uses nft: the listening
 * sockets, the pending state and our chains in the other backend; the nft listing of our chains
 * comes at the same time from the node's resident nft (nft-resident.ts). The engine compares the
 * listing with the one taken before the last guard read; equal (counters aside), the read still
 * holds and only its counters are new. Anything else: it reads again. Runs in a subshell of the
 * persistent shell: `grep` is the one process it starts, two when something is pending.
 */
export const QUICK_SCRIPT = shippedScript(
  `${PRELUDE}set -f
kb=nft
m dir "$d"
${SEC}${OTHER_BACKEND}files="pending/token pending/deadline pending/timer last-expired"
${LISTEN_AND_STATE}exit 0
`,
  { name: 'npg-quick' },
);

/**
 * Interactive nft for Fleet.ask (nft-resident.ts): started once per connection, it answers `list
 * chain` requests until its stdin closes. HOME=/nonexistent: interactive nft rewrites (truncates)
 * ~/.nft.history on exit, which would replace the node admin's own history. stderr is dropped:
 * nft writes messages there mid-rule (an xt target it cannot translate), splitting lines.
 */
export const NFT_RESIDENT_SCRIPT = shippedScript(
  `PATH=$PATH:/usr/sbin:/sbin:/usr/bin:/bin
command -v nft >/dev/null 2>&1 || { echo 'nft: command not found' >&2; exit 127; }
HOME=/nonexistent TERM=dumb LC_ALL=C exec nft -a -i 2>/dev/null
`,
  { name: /npg-nft-(ip|ip6)/ },
);

/** The lock, then `check v4|v6`: 0 unchanged, 1 changed since the read (stale), 2 unreadable. */
const LOCK_AND_CHECK = `mkdir -p "$d" && chmod 700 "$d" || { m result no-dir; exit 5; }
exec 9>>"$d/lock" || { m result no-lock; exit 5; }
flock -w 60 9 || { m result locked; exit 6; }
excerpt() {
  tool "$1" save
  if [ -f "$w/chains.$1" ]; then
    # The plan came from a guard read: the same chains, in the same order, \`-S\` without counters.
    ipt=\${T%-save}
    read -r cl <"$w/chains.$1" || return 1
    set -f
    for c in $cl; do
      case $c in PREROUTING|NPG-*) ;; *) return 1 ;; esac
      case $c in *[!A-Z0-9-]*) return 1 ;; esac
      if [ "$c" = PREROUTING ]; then "$ipt" -w -t nat -S PREROUTING 2>"$w/err" || return 1
      else "$ipt" -w -t nat -S "$c" 2>/dev/null; fi
    done >"$w/ex.$1"
    set +f
    return 0
  fi
  "$T" -t nat >"$w/now.$1" 2>"$w/err" || return 1
  sed -e 's/^\\[[0-9]*:[0-9]*\\] //' -e 's/^\\(:[^ ]* [^ ]*\\) \\[[0-9]*:[0-9]*\\]$/\\1/' "$w/now.$1" |
    grep -E '^(:NPG-|-A PREROUTING |-A NPG-|-A [^ ]+ .*-[jg] NPG-)' >"$w/ex.$1"
  return 0
}
# Our nft table as JSON without counters (NFT_COUNTERS in snapshot.ts strips the same), or \`absent\`.
nftex() {
  nft -j list table inet nodeport-guard >"$w/raw.nft" 2>"$w/err" && {
    sed -e 's/"packets": [0-9]*, "bytes": [0-9]*//g' "$w/raw.nft" >"$w/ex.nft"
    return 0
  }
  grep -q '^Error: No such file or directory' "$w/err" || return 1
  echo absent >"$w/ex.nft"
  return 0
}
check() {
  [ -f "$w/expect.$1" ] || return 0
  if [ "$1" = nft ]; then nftex || return 2
  else excerpt "$1" || return 2; fi
  cmp -s "$w/ex.$1" "$w/expect.$1" || return 1
  return 0
}
disarm() {
  [ -f "$d/pending/token" ] || return 0
  pt=$(cat "$d/pending/token")
  read -r kind pid 2>/dev/null <"$d/pending/timer" || kind=none
  case $kind in
    systemd) systemctl stop "npg-confirm-$pt.timer" "npg-confirm-$pt.service" >/dev/null 2>&1 ;;
    sh) if tr '\\000' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'pending/expire.sh'; then kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null; fi ;;
  esac
  rm -rf "$d/pending"
  m disarmed "$pt"
}
`;

/**
 * Change the guard: under the node lock, check that our chains and PREROUTING are as read when
 * the plan was made, save the state before the change, then one iptables-restore --noflush per
 * family (one retry after a failed commit, which changed nothing: a concurrent nft writer can make
 * a commit fail). If the second family fails, the first is undone, so the node is fully old or
 * fully new. With a confirm time, arm the timer that restores the saved state.
 * The nft guard (table inet nodeport-guard) is one more part, `nft`, beside v4 and v6: its check
 * lists our table as JSON without counters (or `absent`) and compares it with expect.nft, and its
 * change is one `nft -f` (one batch: all or nothing); a part that fails undoes the parts before it.
 * $1 apply|rollback|remove  $2 nft|legacy|default (kube-proxy's iptables backend)  $3 token
 * $4 confirm seconds (0: none)
 * stdin: `%%npg file NAME` sections: expect.v4/6/nft, chains.v4/6, saved.v4/6/nft, saved.meta,
 * restore.v4/6/nft, undo.v4/6/nft, expire.sh, order (the parts' order: `v4 v6 nft` or `nft v4 v6`).
 */
export const CHANGE_SCRIPT = shippedScript(
  `${PRELUDE}${TOOLS}op=$1 kb=$2 tok=$3 secs=$4
case $op in apply|rollback|remove) ;; *) m result bad-args; exit 2 ;; esac
case $kb in nft|legacy|default) ;; *) m result bad-args; exit 2 ;; esac
case $tok in ''|*[!0-9a-f]*) m result bad-args; exit 2 ;; esac
case $secs in ''|*[!0-9]*) m result bad-args; exit 2 ;; esac
umask 077
w=$(mktemp -d) || { m result no-tmp; exit 5; }
trap 'rm -rf "$w"' EXIT
awk -v w="$w" '/^%%npg file [a-z0-9]+([.][a-z0-9]+)*$/ { if (f != "") close(f); f = w "/" $3; printf "" > f; next } f != "" { print > f }' || { m result bad-bundle; exit 2; }
# The parts' order (node-change.ts partOrder): the new guard before the old one goes. Checked
# before anything is saved or disarmed.
order="v4 v6 nft"
[ -f "$w/order" ] && read -r order <"$w/order"
case $order in "v4 v6 nft"|"nft v4 v6") ;; *) m result bad-bundle; exit 2 ;; esac
${LOCK_AND_CHECK}if [ -f "$d/pending/token" ]; then
  if [ "$op" = apply ]; then m result pending "$(cat "$d/pending/token")"; exit 7; fi
  disarm
fi
for f in v4 v6 nft; do
  check "$f"; c=$?
  if [ "$c" = 1 ]; then m result stale "$f"; exit 3; fi
  if [ "$c" = 2 ]; then m begin stderr; head -c 2000 "$w/err"; printf '\\n'; m end stderr 0; m result read-failed "$f"; exit 4; fi
done
for f in v4 v6 nft; do
  if [ -f "$w/saved.$f" ]; then cp "$w/saved.$f" "$d/saved.$f.new" && mv -f "$d/saved.$f.new" "$d/saved.$f" || { m result save-failed; exit 5; }
  else rm -f "$d/saved.$f"; fi
done
[ -f "$w/saved.meta" ] && cp "$w/saved.meta" "$d/saved.meta.new" && mv -f "$d/saved.meta.new" "$d/saved.meta"
m saved
restore() {
  if [ "$1" = nft ]; then
    nft -f "$2" 2>"$w/err" && return 0
    [ "$3" = retry ] || return 1
    check nft || return 1
    sleep 1
    nft -f "$2" 2>"$w/err"
    return
  fi
  tool "$1" restore; r=$T
  "$r" -w 10 --noflush <"$2" 2>"$w/err" && return 0
  [ "$3" = retry ] || return 1
  check "$1" || return 1
  sleep 1
  "$r" -w 10 --noflush <"$2" 2>"$w/err"
}
applied=
for f in $order; do
  [ -f "$w/restore.$f" ] || continue
  # Newest first: a failed part undoes the others in reverse, as the timer does.
  if restore "$f" "$w/restore.$f" retry; then applied="$f $applied"; m restored "$f"; continue; fi
  m begin stderr; head -c 2000 "$w/err"; printf '\\n'; m end stderr 0
  for g in $applied; do
    restore "$g" "$w/undo.$g" once || { m result undo-failed "$f" "$g"; exit 9; }
    m undone "$g"
  done
  m result restore-failed "$f"; exit 8
done
if [ "$secs" -gt 0 ] && [ -n "$applied" ]; then
  p=$d/pending.new
  rm -rf "$p" && mkdir "$p" || { m result timer-failed; exit 10; }
  for f in undo.v4 undo.v6 undo.nft expire.sh; do [ -f "$w/$f" ] && cp "$w/$f" "$p/$f"; done
  echo "$order" >"$p/order"
  echo "$kb" >"$p/backend"
  echo $(( $(date +%s) + secs )) >"$p/deadline"
  echo "$tok" >"$p/token"
  rm -rf "$d/pending" && mv "$p" "$d/pending"
  armed=
  if [ -z "$ns" ] && [ -d /run/systemd/system ] && command -v systemd-run >/dev/null 2>&1; then
    if systemd-run --quiet --collect --unit="npg-confirm-$tok" --on-active="\${secs}s" /bin/sh "$d/pending/expire.sh" "$d" "$tok" 0 >/dev/null 2>&1; then
      echo systemd >"$d/pending/timer"; armed=systemd
    fi
  fi
  if [ -z "$armed" ]; then
    # 9>&-: the timer must not inherit our lock (flock belongs to the open file, not the process).
    if command -v setsid >/dev/null 2>&1; then
      setsid /bin/sh "$d/pending/expire.sh" "$d" "$tok" "$secs" </dev/null >/dev/null 2>&1 9>&- &
    else
      nohup /bin/sh "$d/pending/expire.sh" "$d" "$tok" "$secs" </dev/null >/dev/null 2>&1 9>&- &
    fi
    echo "sh $!" >"$d/pending/timer"; armed=sh
  fi
  m timer "$armed" "$(cat "$d/pending/deadline")"
fi
m result ok
exit 0
`,
  {
    name: 'npg-change',
    args: [/apply|rollback|remove/, /nft|legacy|default/, /[0-9a-f]{16}/, /0|[1-9][0-9]{0,5}/],
  },
);

/**
 * The commit-confirmed timer, written to pending/expire.sh by CHANGE_SCRIPT and started detached
 * (setsid) or as a systemd timer, so it outlives the SSH connection. After the wait it restores the
 * saved state unless `npg confirm` removed pending/ (or replaced it) first.
 * $1 directory  $2 token  $3 seconds to wait first
 */
export const EXPIRE_SCRIPT = `# nodeport-guard commit-confirmed timer: unless \`npg confirm\` arrives first, restores the
# guard state saved before change $2 (undo.v4 / undo.v6 / undo.nft next to this file). Written by npg.
d=$1 tok=$2 secs=$3
case $secs in ''|*[!0-9]*) secs=0 ;; esac
[ "$secs" -gt 0 ] && sleep "$secs"
exec 9>>"$d/lock" || exit 1
flock -w 300 9 || exit 1
[ "$(cat "$d/pending/token" 2>/dev/null)" = "$tok" ] || exit 0
kb=$(cat "$d/pending/backend" 2>/dev/null) || kb=default
# Undo in the reverse of the change's order: the guard it removed comes back before the one it
# installed goes.
undo="nft v4 v6"
[ "$(cat "$d/pending/order" 2>/dev/null)" = "nft v4 v6" ] && undo="v4 v6 nft"
rc=0
for f in $undo; do
  [ -f "$d/pending/undo.$f" ] || continue
  # A step that fails stops the undo: the next one would take away the guard this one failed to
  # put back (the node keeps the change's state, and last-expired says rc 1).
  if [ "$f" = nft ]; then
    nft -f "$d/pending/undo.nft" 2>>"$d/pending/expire.log" ||
      { sleep 1; nft -f "$d/pending/undo.nft" 2>>"$d/pending/expire.log"; } || { rc=1; break; }
    continue
  fi
  b=iptables; [ "$f" = v6 ] && b=ip6tables
  r=$b-restore
  if [ "$kb" != default ] && command -v "$b-$kb-restore" >/dev/null 2>&1; then r=$b-$kb-restore; fi
  "$r" -w 10 --noflush <"$d/pending/undo.$f" 2>>"$d/pending/expire.log" ||
    { sleep 1; "$r" -w 10 --noflush <"$d/pending/undo.$f" 2>>"$d/pending/expire.log"; } || { rc=1; break; }
done
echo "$tok $(date +%s) $rc" >"$d/last-expired"
rm -rf "$d/expired"
mv "$d/pending" "$d/expired"
exit 0
`;

/**
 * Confirm a commit-confirmed change: under the lock, stop the timer and drop pending/.
 * $1: the token to confirm, or `any`.
 */
export const CONFIRM_SCRIPT = shippedScript(
  `${PRELUDE}want=$1
case $want in any) ;; ''|*[!0-9a-f]*) m result bad-args; exit 2 ;; esac
w=$(mktemp -d) || { m result no-tmp; exit 5; }
trap 'rm -rf "$w"' EXIT
kb=default
${TOOLS}${LOCK_AND_CHECK}if [ ! -f "$d/pending/token" ]; then
  if [ -f "$d/last-expired" ]; then m last-expired "$(cat "$d/last-expired")"; fi
  m result none; exit 0
fi
pt=$(cat "$d/pending/token")
if [ "$want" != any ] && [ "$want" != "$pt" ]; then m result other "$pt"; exit 0; fi
disarm
m result confirmed "$pt"
exit 0
`,
  { name: 'npg-confirm', args: [/any|[0-9a-f]{16}/] },
);
