# Sourced by the scripts: installs what building micropay needs on a fresh Debian
# machine with Rust, and points cargo at a shared target directory.

# Builds are large (~10 GB); a shared target directory outside the clone lets later
# clones (and CI on the same machine) reuse them.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/micropay-target}"

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
