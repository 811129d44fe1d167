#!/usr/bin/env bash
# Installs everything the sandbox, the tests and the benches need on a Debian machine (run as root):
#   - Debian packages: containerd 1.6 (bookworm), runc, busybox-static, docker-registry, systemd (for the
#     systemd bed: systemd as PID 1 of its own namespaces, never of the machine), util-linux, the containerd
#     Go sources (upstream .proto files to check our field numbers against);
#   - containerd 1.7 and 2.1 and nydus-snapshotter, downloaded from Debian's newer suites and only unpacked
#     (nothing is installed system-wide) into the bed cache;
#   - erofs-utils (mkfs.erofs, for containerd's erofs differ) from trixie, unpacked the same way, with trixie's
#     libc6 beside it (it needs glibc 2.38, bookworm has 2.36) and a `mkfs.erofs` wrapper in erofs-utils/bin
#     that runs it through that libc's loader;
#   - kubectl 1.32 (Debian trixie's kubectl, unpacked the same way: bookworm's 1.20 bundles a kustomize
#     too old for deploy/), which the tests render the manifests and check the test API server with;
#   - mmdebstrap and umoci, which build the container image offline (scripts/image/build.sh);
#   - the npm dependencies.
# Idempotent: a second run only checks what is there.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/debian.sh
source "$here/scripts/lib/debian.sh"
cache=${KATA_BED_CACHE:-${HOME:-/root}/.cache/kata-deploy-bed}
mkdir -p "$cache"

log() { printf '[provision] %s\n' "$*" >&2; }

[[ $(id -u) -eq 0 ]] || { log "run as root: the test bed starts containerd, runc and mounts"; exit 2; }
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if ((node_major < 20)); then
  log "Node.js 20 or later is needed (found: $(node --version 2>/dev/null || echo none))"
  exit 2
fi
# The image carries this node (scripts/image/rootfs.sh): a build over a shared libnode cannot be carried alone.
if [[ $(node -p 'process.config.variables.node_shared === true') == true ]]; then
  log "this node ($(command -v node)) is built over a shared libnode; the image needs a self-contained Node.js 20 (the official build)"
  exit 2
fi

need_pkgs=(containerd runc busybox-static docker-registry golang-github-containerd-containerd-dev ca-certificates systemd util-linux mmdebstrap umoci)
missing=()
for p in "${need_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d keeps package scripts from starting the system's own containerd or registry.
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  rm -f /usr/sbin/policy-rc.d
fi

# A private apt view of the newer suites: own sources file and lists dir, nothing system-wide changes.
apt_private() {
  apt-get -o Dir::Etc::SourceList="$cache/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null \
    -o Dir::State::Lists="$cache/apt/lists" -o Dir::Cache::Archives="$cache/apt/archives" \
    -o Debug::NoLocking=1 "$@"
}
apt_cache_private() {
  apt-cache -o Dir::Etc::SourceList="$cache/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null \
    -o Dir::State::Lists="$cache/apt/lists" "$@"
}

unpack_from_suite() { # name package suite binary-to-check
  local name=$1 pkg=$2 suite=$3 check=$4 dest="$cache/$1"
  if [[ -x "$dest/$check" ]]; then return 0; fi
  if [[ ! -f "$cache/apt/updated" ]]; then
    local uri; uri=$(archive_uri)
    [[ -n "$uri" ]] || { log "cannot find the machine's Debian archive URI under /etc/apt"; exit 1; }
    mkdir -p "$cache/apt/lists/partial" "$cache/apt/archives/partial"
    printf 'deb %s trixie main\ndeb %s sid main\n' "$uri" "$uri" >"$cache/apt/sources.list"
    log "updating the private package lists for trixie and sid"
    apt_private update -qq >/dev/null
    touch "$cache/apt/updated"
  fi
  local version
  version=$(apt_cache_private madison "$pkg" | awk -v s="$suite" '$0 ~ s"/main" {print $3; exit}')
  [[ -n "$version" ]] || { log "no $pkg in $suite"; exit 1; }
  log "downloading $pkg=$version ($suite)"
  local tmp; tmp=$(mktemp -d)
  (cd "$tmp" && apt_private download -qq "$pkg=$version" >/dev/null)
  rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
  dpkg -x "$tmp"/*.deb "$dest.tmp"
  echo "$version" >"$dest.tmp/VERSION"
  rm -rf "$dest" && mv "$dest.tmp" "$dest"
  rm -rf "$tmp"
}

unpack_from_suite containerd-1.7 containerd trixie usr/bin/containerd
unpack_from_suite containerd-2.1 containerd sid usr/bin/containerd
unpack_from_suite nydus nydus-snapshotter trixie usr/bin/containerd-nydus-grpc
unpack_from_suite erofs-utils erofs-utils trixie usr/bin/mkfs.erofs
unpack_from_suite erofs-libc libc6 trixie usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
unpack_from_suite kubectl kubectl trixie usr/bin/kubectl

# containerd runs `mkfs.erofs` from its PATH: a wrapper that loads the unpacked binary with trixie's libc
# (its other libraries come from the machine: the loader falls back to the system directories).
erofs_wrapper="$cache/erofs-utils/bin/mkfs.erofs"
if [[ ! -x "$erofs_wrapper" ]]; then
  mkdir -p "$(dirname "$erofs_wrapper")"
  libc="$cache/erofs-libc/usr/lib/x86_64-linux-gnu"
  cat >"$erofs_wrapper.tmp" <<WRAPPER
#!/bin/sh
exec "$libc/ld-linux-x86-64.so.2" --library-path "$libc:/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu" \\
  "$cache/erofs-utils/usr/bin/mkfs.erofs" "\$@"
WRAPPER
  chmod 0755 "$erofs_wrapper.tmp" && mv "$erofs_wrapper.tmp" "$erofs_wrapper"
fi
"$erofs_wrapper" --version >/dev/null || { log "mkfs.erofs does not run: $erofs_wrapper"; exit 1; }

# A node_modules that is a symlink belongs to another checkout (a git worktree sharing it): `npm ci` would
# empty the directory it points to, so it is left alone.
if [[ -f "$here/package.json" && ! -L "$here/node_modules" ]]; then
  if [[ ! -d "$here/node_modules" || "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]]; then
    log "installing npm dependencies"
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
log "ready (cache: $cache)"
