# Sourced by the scripts: the one nightly toolchain the build uses, installed on first
# use. The program's SBF build needs its BPF backend; the release relayer is built
# with it too, since only a nightly compiler lets curve25519-dalek 4 take its
# AVX-512 IFMA path where the CPU has one (docs/adr/0017).
MICROPAY_NIGHTLY=nightly-2026-10-30

install_nightly() {
  rustup toolchain list | grep -q "^$MICROPAY_NIGHTLY" ||
    rustup toolchain install "$MICROPAY_NIGHTLY" --profile minimal -c rust-src --no-self-update
}
