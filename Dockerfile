# kata-deploy's image, for operators' own registries:
#   docker build --build-arg PAYLOAD=<dir in the build context> -t <registry>/kata-deploy:<tag> .
# PAYLOAD is the Kata payload for /opt/kata-artifacts (upstream's kata-static tarballs with shim-components.json,
# versions.yaml and nydus-snapshotter/, or an opt/kata/ tree). The layers are those of scripts/image/rootfs.sh,
# which scripts/image/build.sh packs offline into an OCI archive with this file's final-stage configuration
# (ENTRYPOINT, ENV, WORKDIR, LABEL: keep them one instruction a line). The image's node is the build stage's
# (the official self-contained build), with glibc, libstdc++ and busybox from Debian bookworm.
FROM node:20-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends mmdebstrap ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
ARG PAYLOAD=payload
RUN bash scripts/image/rootfs.sh --payload "$PAYLOAD" /image

FROM scratch
COPY --from=build /image/runtime/ /
COPY --from=build /image/app/ /
COPY --from=build /image/payload/ /
LABEL org.opencontainers.image.title="kata-deploy"
LABEL org.opencontainers.image.description="Installs Kata Containers on a containerd node and removes it again"
LABEL org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/usr/bin:/usr/sbin
WORKDIR /
ENTRYPOINT ["/usr/bin/node", "/usr/lib/kata-deploy/bin/kata-deploy.js"]
