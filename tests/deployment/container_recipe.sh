#!/usr/bin/env bash
# Builds the container recipe of docs/deployment.md and runs the image the way
# the Kubernetes manifest there runs it, without a container engine: each
# stage is a Debian root file system made by debootstrap, each RUN a command
# in a chroot of it. Run as root (chroot and mounts need it):
#
#   make container-check               or   tests/deployment/container_recipe.sh
#
# It takes a while (debootstrap, the toolchain's packages, a build from
# scratch): it is not part of `make check`. CSGI_ROOTFS_CACHE=DIR keeps the
# debootstrap result in DIR for the next run; MIRROR picks the Debian mirror.
#
# Checked, in order: the recipe builds; the image holds the executable and
# the libraries it links and nothing of the build; csgi runs in it as `nobody`
# with the manifest's arguments; the readiness probe's request succeeds; the
# preStop command exists in the image; a TERM under the manifest's grace
# period ends csgi with exit code 0 after answering the request in progress.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MIRROR=${MIRROR:-http://deb.debian.org/debian}
DOC="$ROOT/docs/deployment.md"
[ "$(id -u)" = 0 ] || { echo "container_recipe.sh: run as root (chroot)"; exit 2; }
for tool in debootstrap chroot unshare curl; do
  command -v "$tool" >/dev/null || { echo "container_recipe.sh: $tool is needed"; exit 2; }
done

WORK=$(mktemp -d /tmp/csgi-container.XXXXXX)
MOUNTS=()
cleanup() {
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do umount -l "${MOUNTS[i]}" 2>/dev/null || true; done
  rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT
say() { printf '== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*"; exit 1; }

# A fenced block of the deployment page: its first block in LANGUAGE.
block() { awk -v lang="$1" '$0 == "```" lang {on = 1; next} on && /^```/ {exit} on' "$DOC"; }

# ---- the base file system: debian:bookworm and debian:bookworm-slim --------
base="${CSGI_ROOTFS_CACHE:-$WORK/base}"
if [ ! -x "$base/usr/bin/apt-get" ]; then
  say "debootstrap bookworm (minbase) into $base"
  mkdir -p "$base"
  debootstrap --variant=minbase bookworm "$base" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
    { tail -20 "$WORK/debootstrap.log"; fail "debootstrap"; }
fi

# ---- the recipe, stage by stage --------------------------------------------
recipe=$(block dockerfile)
[ -n "$recipe" ] || fail "no dockerfile block in docs/deployment.md"
# Continuation lines joined, comments dropped.
recipe=$(printf '%s\n' "$recipe" | sed -e ':a' -e '/\\$/N; s/\\\n//; ta' | grep -v '^\s*#' | grep -v '^\s*$')

mount_into() {  # the kernel's file systems a build needs inside a stage
  local dir=$1
  mount -t proc proc "$dir/proc" && MOUNTS+=("$dir/proc")
  mount --rbind /dev "$dir/dev" && MOUNTS+=("$dir/dev")
  cp /etc/resolv.conf "$dir/etc/resolv.conf"
}

declare -A STAGE
stage="" workdir="/" user="root" entrypoint="" cmd="" n=0
while IFS= read -r line; do
  instruction=${line%% *}
  rest=${line#* }
  case "$instruction" in
    FROM)
      n=$((n + 1))
      stage="$WORK/stage$n"
      image=${rest%% *}
      case "$image" in debian:bookworm | debian:bookworm-slim) ;; *) fail "FROM $image: only Debian bookworm images are built here" ;; esac
      cp -a "$base" "$stage"
      rm -f "$stage"/var/cache/apt/archives/*.deb  # as in Debian's images
      mount_into "$stage"
      if [[ "$rest" =~ [[:space:]][Aa][Ss][[:space:]]+([^[:space:]]+) ]]; then STAGE[${BASH_REMATCH[1]}]=$stage; fi
      workdir="/" user="root" entrypoint="" cmd=""
      say "stage $n: $rest"
      ;;
    WORKDIR) workdir=$rest; mkdir -p "$stage$workdir" ;;
    COPY)
      if [[ "$rest" =~ ^--from=([^[:space:]]+)[[:space:]]+([^[:space:]]+)[[:space:]]+([^[:space:]]+)$ ]]; then
        from=${STAGE[${BASH_REMATCH[1]}]:?unknown stage ${BASH_REMATCH[1]}}
        src=${BASH_REMATCH[2]} dst=${BASH_REMATCH[3]}
        [[ "$src" = /* ]] || src="$workdir/$src"
        mkdir -p "$(dirname "$stage$dst")"
        cp -a "$from$src" "$stage$dst"
      elif [ "$rest" = ". ." ]; then
        # The build context: the files under version control, as a checkout
        # has them (.dockerignore keeps build trees out of a real build).
        (cd "$ROOT" && git ls-files -z --cached | xargs -0 cp -a --parents -t "$stage$workdir")
      else
        fail "COPY $rest: not understood"
      fi
      ;;
    RUN)
      say "RUN $rest"
      chroot "$stage" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        DEBIAN_FRONTEND=noninteractive /bin/sh -c "cd '$workdir' && $rest" >"$WORK/run.log" 2>&1 ||
        { tail -30 "$WORK/run.log"; fail "RUN $rest"; }
      tail -3 "$WORK/run.log"
      ;;
    USER) user=$rest ;;
    ENTRYPOINT) entrypoint=$rest ;;
    CMD) cmd=$rest ;;
    EXPOSE | STOPSIGNAL | ENV | LABEL) ;;
    *) fail "instruction $instruction: not understood" ;;
  esac
done <<<"$recipe"
image=$stage

# ---- the image -------------------------------------------------------------
say "the image"
# The exec form (a JSON array) as words; the recipe's arrays hold no spaces.
words() { printf '%s' "$1" | tr -d '[]",' ; }
read -r -a entry <<<"$(words "$entrypoint")"
[ "${entry[0]}" = csgi ] || fail "ENTRYPOINT $entrypoint"
chroot "$image" /bin/sh -c 'command -v csgi' >/dev/null || fail "csgi is not on the image's PATH"
chroot "$image" csgi --version || fail "csgi does not start in the image (a library missing?)"
missing=$(chroot "$image" /bin/sh -c 'ldd "$(command -v csgi)" | grep "not found" || true')
[ -z "$missing" ] || fail "libraries missing in the image: $missing"
for absent in /usr/bin/clang++-19 /src /usr/include/boost; do
  [ ! -e "$image$absent" ] || fail "$absent is in the runtime image"
done
du -sh --one-file-system "$image" | awk '{print "image size: " $1}'

# ---- run it as the manifest does ------------------------------------------
manifest=$(block yaml)
args=$(printf '%s\n' "$manifest" | sed -n '/args: \[/,/\]/p' | tr -d '\n')
args=${args#*args: }
read -r -a argv <<<"$(words "$args")"
grace=$(printf '%s\n' "$manifest" | sed -n 's/.*terminationGracePeriodSeconds: \([0-9]*\).*/\1/p')
probe_path=$(printf '%s\n' "$manifest" | sed -n 's/.*httpGet: {path: \([^,]*\),.*/\1/p')
probe_port=$(printf '%s\n' "$manifest" | sed -n 's/.*httpGet: {path: [^,]*, port: \([0-9]*\)}.*/\1/p')
prestop=$(printf '%s\n' "$manifest" | sed -n 's/.*command: \(\[.*\]\).*/\1/p')
read -r -a prestop_argv <<<"$(words "$prestop")"
[ -n "$grace" ] && [ -n "$probe_path" ] && [ -n "$probe_port" ] || fail "manifest: grace period or probe not found"
chroot "$image" /bin/sh -c "command -v ${prestop_argv[0]}" >/dev/null ||
  fail "the preStop command ${prestop_argv[0]} is not in the image"
say "csgi ${argv[*]} as $user; probe GET $probe_path on $probe_port; grace ${grace} s"

# In a network namespace of its own, so that 0.0.0.0:8000 is the pod's.
cat >"$WORK/pod.sh" <<EOF
set -u
ip link set lo up 2>/dev/null || true
chroot --userspec=$user:nogroup "$image" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin \
  ${entry[*]} ${argv[*]} >"$WORK/pod.log" 2>&1 &
pid=\$!
ready=""
for _ in \$(seq 1 100); do
  code=\$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$probe_port$probe_path")
  case "\$code" in 2??|3??) ready=\$code; break ;; esac
  sleep 0.1
done
[ -n "\$ready" ] || { echo "readiness probe never succeeded (last status \$code)"; kill -KILL \$pid; exit 1; }
echo "ready: GET $probe_path -> \$ready"
# A request in progress when TERM comes: a slow one if the app has it.
curl -s -o "$WORK/slow.body" -w '%{http_code}' --max-time 10 "http://127.0.0.1:$probe_port/api/" >"$WORK/slow.code" &
slow=\$!
sleep 0.2
started=\$(date +%s.%N)
kill -TERM \$pid
wait \$pid; status=\$?
ended=\$(date +%s.%N)
wait \$slow
echo "TERM -> exit \$status after \$(awk -v s="\$started" -v e="\$ended" 'BEGIN { printf "%.2f", e - s }') s; request in progress: \$(cat "$WORK/slow.code")"
[ "\$status" = 0 ] || exit 1
awk -v s="\$started" -v e="\$ended" -v g="$grace" 'BEGIN { exit !(e - s < g) }' || { echo "exit took longer than the grace period"; exit 1; }
[ "\$(cat "$WORK/slow.code")" = 200 ] || { echo "the request in progress was not answered"; exit 1; }
EOF
unshare --net bash "$WORK/pod.sh" || { cat "$WORK/pod.log"; fail "the pod"; }
tail -5 "$WORK/pod.log"
say "container recipe: ok"
