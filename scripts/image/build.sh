#!/usr/bin/env bash
# Builds kata-deploy's container image offline, as an OCI image archive (a tar of an OCI image layout), from
# Debian's archive and this checkout: the layers of scripts/image/rootfs.sh, the image configuration of the
# Dockerfile's final stage (ENTRYPOINT, ENV, WORKDIR, LABEL), packed by umoci. No registry, no Docker engine.
#   bash scripts/image/build.sh --payload <dir> [--node <file>] [--out <file>] [--tag <tag>] [--no-build]
# Load it into containerd with `ctr -n k8s.io images import --base-name docker.io/library/kata-deploy <file>`
# (the archive names the tag only), which the manifests' `image: kata-deploy:<tag>` then finds.
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
version=$(node -p "require('$here/package.json').version")
payload='' out="$here/build/kata-deploy-$version.oci.tar" tag=$version rootfs_flags=()
value() { [[ -n ${2:-} ]] || { echo "build.sh: $1 needs a value (see the header of $0)" >&2; exit 2; }; }
while (($#)); do
  case $1 in
    --payload) value "$@"; payload=$2; shift 2 ;;
    --out) value "$@"; out=$2; shift 2 ;;
    --tag) value "$@"; tag=$2; shift 2 ;;
    --node) value "$@"; rootfs_flags+=(--node "$2"); shift 2 ;;
    --no-build) rootfs_flags+=(--no-build); shift ;;
    *) echo "build.sh: unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
[[ $tag =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || { echo "build.sh: --tag \"$tag\" is not an image tag" >&2; exit 2; }
for tool in mmdebstrap umoci; do
  command -v "$tool" >/dev/null || { echo "build.sh: $tool is missing: run bash scripts/provision.sh" >&2; exit 2; }
done
log() { printf '[image] %s\n' "$*" >&2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/kd-image-XXXXXX")
trap 'rm -rf "$work" "$out.tmp"' EXIT
bash "$here/scripts/image/rootfs.sh" --payload "$payload" "${rootfs_flags[@]}" "$work/fs"

layout=$work/layout
image="$layout:$tag"
umoci init --layout "$layout"
umoci new --image "$image"
for layer in runtime app payload; do
  log "layer: $layer"
  umoci insert --image "$image" --history.created_by "scripts/image/rootfs.sh: $layer" "$work/fs/$layer" /
done

# The image configuration comes from the Dockerfile's final stage, so that both builds say the same.
config=(--config.workingdir / --os linux --architecture "$(dpkg --print-architecture)")
in_final=0
while IFS= read -r line; do
  case $line in
    FROM\ *) in_final=0; [[ $line == 'FROM scratch'* ]] && in_final=1 ;;
    ENTRYPOINT\ \[*)
      ((in_final)) || continue
      while IFS= read -r arg; do config+=(--config.entrypoint "$arg"); done < <(node -e \
        'for (const a of JSON.parse(process.argv[1])) console.log(a)' "${line#ENTRYPOINT }")
      ;;
    ENV\ *=*) ((in_final)) && config+=(--config.env "${line#ENV }") ;;
    WORKDIR\ *) ((in_final)) && config+=(--config.workingdir "${line#WORKDIR }") ;;
    LABEL\ *=*) ((in_final)) && config+=(--config.label "$(sed -E 's/^LABEL ([^=]+)="?([^"]*)"?$/\1=\2/' <<<"$line")") ;;
  esac
done <"$here/Dockerfile"
umoci config --image "$image" --history.created_by 'scripts/image/build.sh: configuration from the Dockerfile' "${config[@]}"
umoci gc --layout "$layout"

mkdir -p "$(dirname "$out")"
tar -C "$layout" -cf "$out.tmp" .
mv "$out.tmp" "$out"
compressed=$(du -sb "$layout/blobs" | cut -f1)
unpacked=$(du -sb "$work/fs" | cut -f1)
log "wrote $out: kata-deploy:$tag, $((compressed / 1024 / 1024)) MiB compressed ($((unpacked / 1024 / 1024)) MiB unpacked)"
