//! Anchor-compatible discriminators: the first 8 bytes of `sha256("<namespace>:<Name>")`,
//! computed at compile time.

use sha2_const_stable::Sha256;

const fn discriminator(namespace: &str, name: &str) -> [u8; 8] {
    let digest = Sha256::new()
        .update(namespace.as_bytes())
        .update(b":")
        .update(name.as_bytes())
        .finalize();
    let mut out = [0u8; 8];
    let mut i = 0;
    while i < 8 {
        out[i] = digest[i];
        i += 1;
    }
    out
}

/// `sha256("global:<instruction>")[..8]`, as Anchor names instruction handlers.
pub const fn instruction(name: &str) -> [u8; 8] {
    discriminator("global", name)
}

/// `sha256("account:<Account>")[..8]`.
pub const fn account(name: &str) -> [u8; 8] {
    discriminator("account", name)
}

/// `sha256("event:<Event>")[..8]`.
pub const fn event(name: &str) -> [u8; 8] {
    discriminator("event", name)
}

#[cfg(test)]
mod tests {
    #[test]
    fn matches_anchor_for_a_known_name() {
        // v1's Anchor-generated discriminator for `settle`.
        assert_eq!(
            super::instruction("settle"),
            [175, 42, 185, 87, 144, 131, 102, 212]
        );
    }
}
