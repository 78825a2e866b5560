#!/usr/bin/env bash
# Builds the client-go anchor (main.go beside this script) inside Debian's kubernetes 1.20 source
# tree, in GOPATH mode with golang-1.19 and the vendored client-go, as @vmcp/envtest's setup
# builds kube-apiserver (`pnpm envtest:setup` installs Go and configures the deb-src it needs).
# Everything but the binary is built in a temporary folder and removed.
#   build.sh OUT_BINARY
set -euo pipefail
OUT=$1
HERE=$(cd "$(dirname "$0")" && pwd)
GO=/usr/lib/go-1.19/bin
if [[ ! -x "$GO/go" || ! -d /usr/share/gocode/src/github.com/modern-go/reflect2 ]]; then
  apt-get install -y -qq --no-install-recommends golang-1.19 golang-github-modern-go-reflect2-dev dpkg-dev >/dev/null
fi
WORK=$(mktemp -d -t vmcp-client-go-anchor.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
apt-get source --download-only kubernetes >/dev/null 2>&1 || {
  echo "apt-get source kubernetes failed: is a deb-src entry configured (pnpm envtest:setup)?" >&2
  exit 1
}
tar -xf kubernetes_*.orig.tar.*
TREE=$(find "$WORK" -maxdepth 1 -mindepth 1 -type d -name 'kubernetes*' | head -n1)
mkdir -p gopath/src/k8s.io && ln -s "$TREE" gopath/src/k8s.io/kubernetes
cd gopath/src/k8s.io/kubernetes
# The vendored reflect2 1.0.1 crashes on Go 1.18+: Debian's 1.0.2, as for kube-apiserver.
rm -rf vendor/github.com/modern-go/reflect2
cp -r /usr/share/gocode/src/github.com/modern-go/reflect2 vendor/github.com/modern-go/reflect2
mkdir -p cmd/zzbench && cp "$HERE/main.go" cmd/zzbench/main.go
PATH=$GO:$PATH GO111MODULE=off GOPATH=$WORK/gopath GOCACHE=$WORK/gocache CGO_ENABLED=0 \
  go build -o "$OUT" ./cmd/zzbench
echo "built $OUT"
