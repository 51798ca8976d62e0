//! Account layouts. Every field has alignment 1 (integers are little-endian byte
//! arrays), so a view over account data of the right length is always sound.

mod config;
mod credit;
mod tab;

pub use config::{Config, Params};
pub use credit::Credit;
pub use tab::{Slot, Standing, Tab, KEY_KIND_ED25519, KEY_KIND_NONE};

use bytemuck::{Pod, Zeroable};

macro_rules! le_int {
    ($name:ident, $int:ty, $len:literal) => {
        #[derive(Clone, Copy, Default, PartialEq, Eq, Pod, Zeroable)]
        #[repr(transparent)]
        pub struct $name([u8; $len]);

        impl $name {
            pub const fn new(value: $int) -> Self {
                Self(value.to_le_bytes())
            }
            pub const fn get(&self) -> $int {
                <$int>::from_le_bytes(self.0)
            }
            pub fn set(&mut self, value: $int) {
                self.0 = value.to_le_bytes();
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                self.get().fmt(f)
            }
        }
    };
}

le_int!(U16, u16, 2);
le_int!(U32, u32, 4);
le_int!(U64, u64, 8);
le_int!(I64, i64, 8);

/// A layout whose fields the IDL lists: names, and types as written in the source.
pub trait Described {
    const NAME: &'static str;
    const FIELDS: &'static [(&'static str, &'static str)];
}

/// An account type with an 8-byte Anchor discriminator and a fixed length.
pub trait AccountLayout: Pod {
    const DISCRIMINATOR: [u8; 8];
    const LEN: usize = core::mem::size_of::<Self>();

    /// A view of `data` if it is this account type.
    fn view(data: &[u8]) -> Option<&Self> {
        if data.len() != Self::LEN || data[..8] != Self::DISCRIMINATOR {
            return None;
        }
        bytemuck::try_from_bytes(data).ok()
    }

    /// A mutable view of `data` if it is this account type.
    fn view_mut(data: &mut [u8]) -> Option<&mut Self> {
        if data.len() != Self::LEN || data[..8] != Self::DISCRIMINATOR {
            return None;
        }
        bytemuck::try_from_bytes_mut(data).ok()
    }
}
