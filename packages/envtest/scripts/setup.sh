#!/usr/bin/env bash
# Sets up a real kube-apiserver and etcd for @vmcp/envtest, from Debian's own packages.
#
# - etcd-server (3.4) is installed from Debian.
# - kube-apiserver 1.20.2 is built from Debian's `kubernetes` source package with golang-1.19,
#   in GOPATH mode (offline), then cached outside the repository keyed by the source version:
#   ${VMCP_ENVTEST_CACHE:-$HOME/.cache/vmcp-envtest}/<version>/kube-apiserver
#
# Idempotent: with the binary cached and etcd installed it only says so. Needs root on Debian
# (bookworm) for apt; anywhere else it stops with a message naming the missing step.
set -euo pipefail

SOURCE_VERSION="1.20.5+really1.20.2"
CACHE_ROOT="${VMCP_ENVTEST_CACHE:-$HOME/.cache/vmcp-envtest}"
CACHE_DIR="$CACHE_ROOT/$SOURCE_VERSION"
APISERVER="$CACHE_DIR/kube-apiserver"
ETCD="${VMCP_ENVTEST_ETCD:-/usr/bin/etcd}"

say() { printf 'envtest:setup: %s\n' "$*"; }
fail() { printf 'envtest:setup: error: %s\n' "$*" >&2; exit 1; }

if [[ -x "$APISERVER" && -x "$ETCD" ]]; then
  say "ready: $APISERVER and $ETCD"
  exit 0
fi

[[ -r /etc/debian_version ]] || fail "this is not Debian: install etcd 3.4 and build kube-apiserver 1.20 yourself, then set VMCP_ENVTEST_APISERVER and VMCP_ENVTEST_ETCD"
[[ "$(id -u)" == 0 ]] || fail "apt needs root: run 'pnpm envtest:setup' as root once (or point VMCP_ENVTEST_APISERVER/VMCP_ENVTEST_ETCD at existing binaries)"

export DEBIAN_FRONTEND=noninteractive
LOG="$(mktemp -t vmcp-envtest-setup.XXXXXX.log)"
on_error() {
  printf 'envtest:setup: failed; last lines of %s:\n' "$LOG" >&2
  tail -n 40 "$LOG" >&2 || true
}
trap on_error ERR

# 1. A deb-src entry for Debian's main archive, beside the existing deb one, from the machine's
#    own apt sources (deb822 or one-line format: its mirror, suite and key; scripts/deb-src.sh).
if ! grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  source_entry="$(bash "$(dirname "${BASH_SOURCE[0]}")/deb-src.sh")" || fail "cannot add a deb-src entry (see above)"
  say "adding deb-src from the machine's apt sources: $(printf '%s' "$source_entry" | awk '/^(URIs|Suites):/ {printf "%s ", $2}')"
  printf '%s\n' "$source_entry" > /etc/apt/sources.list.d/vmcp-envtest-src.sources
fi

say "installing Debian packages (etcd-server golang-1.19 golang-github-modern-go-reflect2-dev dpkg-dev)"
apt-get update >>"$LOG" 2>&1
apt-get install -y --no-install-recommends etcd-server golang-1.19 golang-github-modern-go-reflect2-dev dpkg-dev >>"$LOG" 2>&1
# Debian's etcd service is not needed (each environment runs its own etcd on free ports); it is
# stopped where systemd runs it, and nothing else is touched.
systemctl disable --now etcd >/dev/null 2>&1 || true

if [[ ! -x "$APISERVER" ]]; then
  WORK="$(mktemp -d -t vmcp-envtest-build.XXXXXX)"
  say "building kube-apiserver $SOURCE_VERSION in $WORK (a few minutes; log: $LOG)"
  cd "$WORK"
  apt-get source --download-only "kubernetes=$SOURCE_VERSION" >>"$LOG" 2>&1 || apt-get source --download-only kubernetes >>"$LOG" 2>&1
  orig="$(ls kubernetes_*.orig.tar.* | head -n1)"
  mkdir -p gopath/src/k8s.io
  tar -xf "$orig" -C "$WORK"
  tree="$(find "$WORK" -maxdepth 1 -mindepth 1 -type d -name 'kubernetes*' | head -n1)"
  [[ -d "$tree/vendor" ]] || fail "the kubernetes source tarball has no vendor/ folder"
  ln -s "$tree" gopath/src/k8s.io/kubernetes

  export GOPATH="$WORK/gopath" GO111MODULE=off CGO_ENABLED=0 GOCACHE="$WORK/gocache"
  export PATH="/usr/lib/go-1.19/bin:$PATH"
  cd "$GOPATH/src/k8s.io/kubernetes"

  # The vendored reflect2 1.0.1 crashes on Go 1.18+ under load: use Debian's 1.0.2.
  rm -rf vendor/github.com/modern-go/reflect2
  cp -r /usr/share/gocode/src/github.com/modern-go/reflect2 vendor/github.com/modern-go/reflect2

  # zz_generated.openapi.go is not in the tarball: generate it with the vendored openapi-gen,
  # over every package tagged for it (-R: vendor/k8s.io/* are symlinks into staging/).
  go build -o "$WORK/openapi-gen" ./vendor/k8s.io/kube-openapi/cmd/openapi-gen >>"$LOG" 2>&1
  inputs="$(grep -Rl --include='*.go' '+k8s:openapi-gen=' pkg cmd plugin vendor/k8s.io 2>/dev/null \
    | xargs -n1 dirname | sort -u \
    | grep -v -e 'code-generator' -e 'sample-apiserver' \
    | sed -e 's#^vendor/##' -e 's#^\(pkg\|cmd\|plugin\)/#k8s.io/kubernetes/\1/#' | paste -sd, -)"
  "$WORK/openapi-gen" -i "$inputs" -p k8s.io/kubernetes/pkg/generated/openapi -O zz_generated.openapi \
    -h vendor/k8s.io/code-generator/hack/boilerplate.go.txt -o "$GOPATH/src" >>"$LOG" 2>&1

  ldflags="-s -w"
  for pkg in k8s.io/kubernetes/vendor/k8s.io/component-base/version k8s.io/kubernetes/vendor/k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=v1.20.2 -X $pkg.gitMajor=1 -X $pkg.gitMinor=20"
  done
  go build -p 2 -ldflags "$ldflags" -o "$WORK/kube-apiserver" ./cmd/kube-apiserver >>"$LOG" 2>&1

  mkdir -p "$CACHE_DIR"
  mv "$WORK/kube-apiserver" "$APISERVER.tmp"
  mv "$APISERVER.tmp" "$APISERVER"
  cd /
  rm -rf "$WORK"
fi

"$APISERVER" --version >>"$LOG" 2>&1
[[ -x "$ETCD" ]] || fail "etcd not found at $ETCD after installing etcd-server"
say "ready: $APISERVER ($("$APISERVER" --version)) and $ETCD"
rm -f "$LOG"
