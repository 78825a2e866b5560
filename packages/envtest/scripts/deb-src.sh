#!/usr/bin/env bash
# Prints the deb822 stanza of a `deb-src` source for Debian's main archive, taken from the
# machine's own apt sources: the first `deb` entry of a release suite (not -security, -updates or
# -backports) with the `main` component, in deb822 `.sources` files or one-line `sources.list`
# files, with its mirror, suite and signing key. No host is assumed: with no such entry it fails
# and says where it looked.
#
#   deb-src.sh [apt-dir]   (default /etc/apt; tests pass a folder of their own)
set -euo pipefail

APT_DIR="${1:-/etc/apt}"
files=()
for file in "$APT_DIR"/sources.list.d/*.sources "$APT_DIR"/sources.list "$APT_DIR"/sources.list.d/*.list; do
  [[ -r "$file" ]] && files+=("$file")
done

found=""
if ((${#files[@]} > 0)); then
  found="$(awk '
    function release(suite) { return suite !~ /[-\/](security|updates|backports|proposed-updates)$/ && suite !~ /-(security|updates|backports)\// }
    function has(list, word,   n, i, parts) { n = split(list, parts, /[ \t]+/); for (i = 1; i <= n; i++) if (parts[i] == word) return 1; return 0 }
    function emit(uri, suite, key) {
      printf "Types: deb-src\nURIs: %s\nSuites: %s\nComponents: main\n", uri, suite
      if (key != "") printf "Signed-By: %s\n", key
      done = 1
      exit 0
    }
    # deb822: a stanza ends at a blank line or the end of a file.
    function stanza(   n, i, suites) {
      if (has(types, "deb") && uris != "" && has(components, "main") && enabled != "no") {
        n = split(suitelist, suites, /[ \t]+/)
        for (i = 1; i <= n; i++) if (suites[i] != "" && release(suites[i])) { split(uris, u, /[ \t]+/); emit(u[1], suites[i], key) }
      }
      types = uris = suitelist = components = key = enabled = ""
    }
    FNR == 1 && NR > 1 { stanza() }
    FILENAME ~ /\.sources$/ {
      if ($0 ~ /^[ \t]*$/) { stanza(); next }
      if ($0 ~ /^#/) next
      field = tolower($1); sub(/:$/, "", field); value = $0; sub(/^[^:]*:[ \t]*/, "", value)
      if (field == "types") types = value
      else if (field == "uris") uris = value
      else if (field == "suites") suitelist = value
      else if (field == "components") components = value
      else if (field == "signed-by") key = value
      else if (field == "enabled") enabled = tolower(value)
      next
    }
    # One-line format: deb [options] uri suite component...
    $1 == "deb" {
      key = ""; i = 2
      if ($2 ~ /^\[/) {
        options = ""
        for (; i <= NF; i++) { options = options " " $i; if ($i ~ /\]$/) { i++; break } }
        if (match(options, /signed-by=[^ \]]+/)) key = substr(options, RSTART + 10, RLENGTH - 10)
      }
      uri = $i; suite = $(i + 1); main = 0
      for (j = i + 2; j <= NF; j++) if ($j == "main") main = 1
      if (main && release(suite)) emit(uri, suite, key)
      key = ""
    }
    END { if (!done) stanza() }
  ' "${files[@]}")" || true
fi

if [[ -z "$found" ]]; then
  printf 'deb-src.sh: no "deb" source of a Debian release suite with "main" in %s/sources.list or %s/sources.list.d/: add your mirror there (or a deb-src entry yourself)\n' "$APT_DIR" "$APT_DIR" >&2
  exit 1
fi
printf '%s\n' "$found"
