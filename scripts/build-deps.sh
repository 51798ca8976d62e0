# Sourced by the scripts: installs what building micropay needs on a fresh Debian
# machine with Rust, and points cargo at a shared target directory.

# Builds are large (~10 GB); a shared target directory outside the clone lets later
# clones (and CI on the same machine) reuse them.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/micropay-target}"

# Some of the workspace's crates bake their clone's path in (`env!("CARGO_MANIFEST_DIR")`:
# the program's .so, the IDL, the SDK, checked-in vectors), and cargo does not rebuild
# them for another clone whose files are older than the build. When another clone built
# here last, touching those files makes cargo rebuild them (and what links them) from
# this one.
micropay_built_from="$CARGO_TARGET_DIR/.built-from"
if [ "$(cat "$micropay_built_from" 2>/dev/null || true)" != "$PWD" ]; then
  grep -rl --include='*.rs' --exclude-dir=target --exclude-dir=node_modules \
    'CARGO_MANIFEST_DIR' . | xargs -r touch || true
  mkdir -p "$CARGO_TARGET_DIR"
  echo "$PWD" > "$micropay_built_from"
fi

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Installs the Debian packages named in "$@" that are missing, plus the build tools;
# libclang and cmake build RocksDB for the local validator.
install_packages() {
  local need=()
  command -v cc >/dev/null || need+=(build-essential)
  command -v pkg-config >/dev/null || need+=(pkg-config)
  command -v cmake >/dev/null || need+=(cmake)
  dpkg -s libssl-dev >/dev/null 2>&1 || need+=(libssl-dev)
  dpkg -s libclang-dev >/dev/null 2>&1 || need+=(libclang-dev)
  local package
  for package in "$@"; do
    dpkg -s "$package" >/dev/null 2>&1 || need+=("$package")
  done
  if [ ${#need[@]} -gt 0 ]; then
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${need[@]}"
  fi
}
