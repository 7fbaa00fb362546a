# The same image as scripts/image/build.sh, for those who build with Docker, Podman or buildah.
# The script is what the tests build and run: it assembles the OCI image daemonlessly and
# reproducibly (same inputs, same digest), FROM scratch, carrying its runtime (the Node binary the
# lockfile pins and the shared libraries it links). No base image is pulled, so this file takes
# the root filesystem the script unpacks as its build context:
#
#   out=$(scripts/image/build.sh) && docker build -f Dockerfile -t rollcall/rollcall:0.1.0 "$out/rootfs"
#
# test/unit/image-dockerfile.test.ts checks that the settings below equal the script's image config.
FROM scratch
COPY . /
USER 65532:65532
WORKDIR /app
ENV PATH=/usr/local/bin:/usr/bin:/bin NODE_ENV=production HOME=/tmp
ENTRYPOINT ["/usr/local/bin/node", "/app/bin/rollcall.js"]
CMD ["run"]
