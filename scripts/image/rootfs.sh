#!/usr/bin/env bash
# The image's file systems, one directory per layer, from Debian's archive and this checkout:
#   <dest>/runtime  a self-contained Node.js 20 executable (the official build, ICU inside: by default the
#                   `node` this build runs with, the one the bundle was built and tested with), the libraries it
#                   links (libc6, libstdc++6 and libgcc-s1 from Debian), busybox (sh, cat, env, nsenter, umount:
#                   what the CLI runs) and the CA bundle; no apt, no dpkg, no shell packages. The Debian packages
#                   come from mmdebstrap's extract variant: unpacked, no maintainer script run.
#   <dest>/app      the built CLI at /usr/lib/kata-deploy (bin/, bundle/, proto/, package.json and the
#                   node_modules of the packages the bundle leaves external), /usr/bin/kata-deploy.
#   <dest>/payload  the Kata payload at /opt/kata-artifacts (and its nydus-snapshotter/ when present).
# Used by scripts/image/build.sh (offline OCI archive) and by the Dockerfile (the same directories, COPY'd).
set -euo pipefail

usage() {
  cat >&2 <<'USAGE'
usage: scripts/image/rootfs.sh --payload <dir> [--node <file>] [--no-build] <dest>
  --payload <dir>  the Kata payload for /opt/kata-artifacts: upstream's shipping format (shim-components.json,
                   tarballs/, versions.yaml, nydus-snapshotter/) or an opt/kata/ tree
  --node <file>    the Node.js executable for the image (default: the node on the PATH); it must be a
                   self-contained build (not one over a shared libnode) of Node 20 or later
  --no-build       use the bundle already built (npm run build) instead of building it
  <dest>           a new or empty directory
USAGE
  exit 2
}

here=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/debian.sh
source "$here/scripts/lib/debian.sh"

payload='' build=1 dest='' node_bin=''
while (($#)); do
  case $1 in
    --payload) payload=${2:-}; shift 2 || usage ;;
    --node) node_bin=${2:-}; shift 2 || usage ;;
    --no-build) build=0; shift ;;
    -h | --help) usage ;;
    -*) echo "rootfs.sh: unknown option $1" >&2; usage ;;
    *) [[ -z $dest ]] || usage; dest=$1; shift ;;
  esac
done
[[ -n $dest ]] || usage
if [[ -z $payload || ! -d $payload ]]; then
  echo "rootfs.sh: --payload must name the Kata payload directory (got \"$payload\"); nothing was built" >&2
  exit 2
fi
if [[ ! -f $payload/shim-components.json && ! -d $payload/opt/kata ]]; then
  echo "rootfs.sh: $payload holds neither shim-components.json nor opt/kata/: not a Kata payload; nothing was built" >&2
  exit 2
fi
node_bin=${node_bin:-$(command -v node || true)}
node_check='process.config.variables.node_shared !== true && Number(process.versions.node.split(".")[0]) >= 20 ? "self-contained" : "no"'
if [[ ! -x $node_bin || $("$node_bin" -p "$node_check" 2>/dev/null) != self-contained ]]; then
  echo "rootfs.sh: --node \"$node_bin\" is not a self-contained Node.js 20 or later (the official build); nothing was built" >&2
  exit 2
fi
if [[ -e $dest && -n $(ls -A "$dest") ]]; then
  echo "rootfs.sh: $dest is not empty; give a new directory" >&2
  exit 2
fi
mkdir -p "$dest"
log() { printf '[image] %s\n' "$*" >&2; }

# --- runtime ---------------------------------------------------------------------------------------------
runtime=$dest/runtime
uri=$(archive_uri)
[[ -n $uri ]] || { echo "rootfs.sh: cannot find the machine's Debian archive URI under /etc/apt" >&2; exit 1; }
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[[ -n $suite ]] || { echo "rootfs.sh: /etc/os-release names no VERSION_CODENAME: not a Debian build machine" >&2; exit 1; }
log "runtime: node $("$node_bin" --version) ($node_bin); libstdc++6 and busybox-static from $suite ($uri)"
# mmdebstrap's apt does not read the machine's apt.conf.d: a proxy set there is passed on.
proxy=()
while read -r key value; do
  proxy+=(--aptopt="$key $value")
done < <(apt-config dump 'Acquire::http::Proxy' 'Acquire::https::Proxy' 2>/dev/null | grep -E '^Acquire::https?::Proxy ' || true)
mmdebstrap --quiet --mode=root --variant=extract --include=libstdc++6,busybox-static --skip=output/dev \
  --aptopt='Acquire::Languages "none"' "${proxy[@]}" "$suite" "$runtime" "deb $uri $suite main"
install -D -m 0755 "$node_bin" "$runtime/usr/bin/node"
# Merged /usr, as base-files and usrmerge make it (the extract variant runs neither): bookworm's packages still
# ship /bin, /lib and /lib64.
for d in bin lib lib64 sbin; do
  mkdir -p "$runtime/usr/$d"
  if [[ -d $runtime/$d && ! -L $runtime/$d ]]; then
    cp -a "$runtime/$d/." "$runtime/usr/$d/"
    rm -rf "${runtime:?}/$d"
  fi
  ln -sfn "usr/$d" "$runtime/$d"
done
for applet in sh cat env nsenter umount; do ln -sfn busybox "$runtime/usr/bin/$applet"; done
# What only a package manager or a person reads; gconv (glibc's iconv modules) node does not use.
# mmdebstrap's own files and the build machine's (resolv.conf, hostname) are not the image's either.
rm -rf "$runtime"/usr/share/{doc,man,info,lintian,locale,bash-completion,gdb,gcc} \
  "$runtime"/usr/lib/x86_64-linux-gnu/gconv "$runtime"/var/cache/* "$runtime"/var/lib/apt "$runtime"/var/log/* \
  "$runtime"/etc/{apt,resolv.conf,hostname,fstab} "$runtime"/var/lib/dpkg "$runtime"/dev
mkdir -p "$runtime/dev" "$runtime/proc" "$runtime/sys"
# TLS roots for what talks to the internet (`check`'s release lookup); the in-cluster API uses the service
# account's ca.crt.
mkdir -p "$runtime/etc/ssl/certs"
cp /etc/ssl/certs/ca-certificates.crt "$runtime/etc/ssl/certs/ca-certificates.crt"
mkdir -p "$runtime/tmp" && chmod 1777 "$runtime/tmp"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$runtime/etc/passwd"
printf 'root:x:0:\n' >"$runtime/etc/group"

# --- app -------------------------------------------------------------------------------------------------
app=$dest/app
lib=$app/usr/lib/kata-deploy
if ((build)); then (cd "$here" && npm run --silent build); fi
[[ -f $here/bundle/main.js ]] || { echo "rootfs.sh: no bundle/main.js: run npm run build" >&2; exit 1; }
log "app: the CLI at /usr/lib/kata-deploy"
mkdir -p "$lib" "$app/usr/bin"
cp -r "$here/bin" "$here/bundle" "$here/proto" "$here/package.json" "$lib/"
rm -f "$lib"/bundle/*.map
while read -r dir; do
  mkdir -p "$lib/$(dirname "$dir")"
  cp -r "$here/$dir" "$lib/$dir"
done < <(node "$here/scripts/image/runtime-modules.mjs")
# Build inputs, type declarations, and native builds for other runtimes (Bare) and libcs (musl): never loaded.
rm -rf "$lib/node_modules/@types" "$lib"/node_modules/zstd-napi/{deps,src,build/Release/obj.target} \
  "$lib"/node_modules/koffi/{vendor,doc} "$lib"/node_modules/node-addon-api "$lib"/node_modules/prebuild-install \
  "$lib"/node_modules/bare-*/prebuilds "$lib"/node_modules/@koromix/*/musl_*
find "$lib/node_modules" \( -name '*.d.ts' -o -name '*.map' -o -name '*.md' \) -type f -delete
ln -sfn ../lib/kata-deploy/bin/kata-deploy.js "$app/usr/bin/kata-deploy"
# The image's node loads every external package from the image's tree (a missing platform build of koffi, or a
# node_modules installed for another system, fails here and not on a node).
externals=$(node --input-type=module -e \
  "import { EXTERNAL_PACKAGES } from '$here/scripts/externals.mjs'; console.log(EXTERNAL_PACKAGES.join(' '))")
for pkg in $externals; do
  (cd "$lib" && "$node_bin" --input-type=module -e "await import('$pkg')") ||
    { echo "rootfs.sh: $pkg does not load from $lib with $node_bin: run npm ci on this system" >&2; exit 1; }
done

# --- payload ---------------------------------------------------------------------------------------------
log "payload: $payload at /opt/kata-artifacts"
mkdir -p "$dest/payload/opt"
# -L: a payload assembled with symlinks (the tests' opt/ is one) is copied as files.
cp -rL "$payload" "$dest/payload/opt/kata-artifacts"

du -s --block-size=1 "$runtime" "$app" "$dest/payload" | while read -r bytes path; do
  log "$(basename "$path"): $((bytes / 1024 / 1024)) MiB"
done
