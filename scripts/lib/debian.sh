# Sourced by the scripts that fetch from Debian's archive.

# The archive URI the machine already uses (never hard-coded): the first non-security URI of its apt sources.
archive_uri() {
  { grep -hsE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list || true; } |
    { grep -v security || true; } | sed -E 's/^URIs:[[:space:]]*//; s/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?//' |
    awk '{print $1; exit}'
}
