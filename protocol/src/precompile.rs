//! The one ed25519 precompile layout micropay produces and accepts.
//!
//! ```text
//! count u8, padding u8 (0)
//! count x offsets (14 bytes each, every instruction index u16::MAX = "this instruction")
//! count x [ pubkey 32 | signature 64 | message 98 ]
//! ```
//!
//! The program recomputes every offset for the declared count and rejects any data
//! that differs, so a signature can only vouch for the message and key it sits next to
//! in this very instruction.

use alloc::vec::Vec;

use solana_address::Address;

use crate::{message::MESSAGE_LEN, ProtocolError, TipMessage};

pub const ED25519_PROGRAM_ID: Address =
    Address::from_str_const("Ed25519SigVerify111111111111111111111111111");

pub const HEADER_LEN: usize = 2;
pub const OFFSETS_LEN: usize = 14;
pub const PUBKEY_LEN: usize = 32;
pub const SIGNATURE_LEN: usize = 64;
/// Bytes of one signed state inside the precompile data: offsets, key, signature, message.
pub const PER_SIGNATURE_LEN: usize = OFFSETS_LEN + PUBKEY_LEN + SIGNATURE_LEN + MESSAGE_LEN;
/// Instruction index meaning "the precompile instruction itself".
pub const CURRENT_INSTRUCTION: u16 = u16::MAX;
/// Most signatures one precompile instruction may carry while every offset fits a u16.
pub const MAX_SIGNATURES: usize = (u16::MAX as usize - HEADER_LEN) / PER_SIGNATURE_LEN;

/// The offsets record of the ed25519 precompile for one signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignatureOffsets {
    pub signature_offset: u16,
    pub signature_instruction_index: u16,
    pub public_key_offset: u16,
    pub public_key_instruction_index: u16,
    pub message_data_offset: u16,
    pub message_data_size: u16,
    pub message_instruction_index: u16,
}

impl SignatureOffsets {
    /// The canonical offsets of signature `index` among `count`.
    pub fn canonical(count: usize, index: usize) -> Self {
        let block = HEADER_LEN + count * OFFSETS_LEN + index * (PER_SIGNATURE_LEN - OFFSETS_LEN);
        // `count <= MAX_SIGNATURES` is checked by every caller, so these fit a u16.
        Self {
            public_key_offset: block as u16,
            public_key_instruction_index: CURRENT_INSTRUCTION,
            signature_offset: (block + PUBKEY_LEN) as u16,
            signature_instruction_index: CURRENT_INSTRUCTION,
            message_data_offset: (block + PUBKEY_LEN + SIGNATURE_LEN) as u16,
            message_data_size: MESSAGE_LEN as u16,
            message_instruction_index: CURRENT_INSTRUCTION,
        }
    }

    pub fn to_bytes(&self) -> [u8; OFFSETS_LEN] {
        let fields = [
            self.signature_offset,
            self.signature_instruction_index,
            self.public_key_offset,
            self.public_key_instruction_index,
            self.message_data_offset,
            self.message_data_size,
            self.message_instruction_index,
        ];
        let mut out = [0u8; OFFSETS_LEN];
        for (chunk, field) in out.chunks_exact_mut(2).zip(fields) {
            chunk.copy_from_slice(&field.to_le_bytes());
        }
        out
    }
}

/// Total precompile data length for `count` signatures.
pub const fn data_len(count: usize) -> usize {
    HEADER_LEN + count * PER_SIGNATURE_LEN
}

/// One signature the precompile checked: who signed, and the parsed message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifiedState {
    pub signer: Address,
    pub message: TipMessage,
}

/// Parses precompile instruction data in micropay's canonical layout, expecting exactly
/// `expected_count` signatures. Anything else is an error: a different count, a
/// non-zero padding byte, an offset pointing anywhere but the canonical place (including
/// into another instruction), trailing bytes, or a message that is not a micropay one.
pub fn parse_precompile_data(
    data: &[u8],
    expected_count: usize,
) -> Result<Vec<VerifiedState>, ProtocolError> {
    if expected_count == 0 || expected_count > MAX_SIGNATURES {
        return Err(ProtocolError::BadSignatureCount);
    }
    if data.len() < HEADER_LEN || data[0] as usize != expected_count {
        return Err(ProtocolError::BadSignatureCount);
    }
    if data[1] != 0 || data.len() != data_len(expected_count) {
        return Err(ProtocolError::BadPrecompileLayout);
    }
    let mut states = Vec::with_capacity(expected_count);
    for index in 0..expected_count {
        let expected = SignatureOffsets::canonical(expected_count, index);
        let at = HEADER_LEN + index * OFFSETS_LEN;
        if data[at..at + OFFSETS_LEN] != expected.to_bytes() {
            return Err(ProtocolError::BadPrecompileLayout);
        }
        let key_at = expected.public_key_offset as usize;
        let msg_at = expected.message_data_offset as usize;
        let mut signer = [0u8; PUBKEY_LEN];
        signer.copy_from_slice(&data[key_at..key_at + PUBKEY_LEN]);
        states.push(VerifiedState {
            signer: Address::new_from_array(signer),
            message: TipMessage::parse(&data[msg_at..msg_at + MESSAGE_LEN])?,
        });
    }
    Ok(states)
}

/// Builds precompile data for `(signer, signature, message)` triples in canonical layout.
pub fn build_precompile_data(
    signed: &[([u8; PUBKEY_LEN], [u8; SIGNATURE_LEN], [u8; MESSAGE_LEN])],
) -> Result<Vec<u8>, ProtocolError> {
    let count = signed.len();
    if count == 0 || count > MAX_SIGNATURES || count > u8::MAX as usize {
        return Err(ProtocolError::BadSignatureCount);
    }
    let mut data = Vec::with_capacity(data_len(count));
    data.push(count as u8);
    data.push(0);
    for index in 0..count {
        data.extend_from_slice(&SignatureOffsets::canonical(count, index).to_bytes());
    }
    for (pubkey, signature, message) in signed {
        data.extend_from_slice(pubkey);
        data.extend_from_slice(signature);
        data.extend_from_slice(message);
    }
    debug_assert_eq!(data.len(), data_len(count));
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(epoch: u64) -> [u8; MESSAGE_LEN] {
        TipMessage {
            tab: Address::new_from_array([1; 32]),
            incarnation: 1,
            epoch,
            seq: 1,
            total: 10,
            entries_hash: [2; 32],
            count: 1,
        }
        .to_bytes()
    }

    #[test]
    fn round_trip_two_signatures() {
        let data = build_precompile_data(&[
            ([3; 32], [4; 64], message(0)),
            ([5; 32], [6; 64], message(1)),
        ])
        .unwrap();
        assert_eq!(data.len(), 2 + 2 * 208);
        let states = parse_precompile_data(&data, 2).unwrap();
        assert_eq!(states[0].signer, Address::new_from_array([3; 32]));
        assert_eq!(states[1].signer, Address::new_from_array([5; 32]));
        assert_eq!(states[1].message.epoch, 1);
    }

    #[test]
    fn rejects_any_deviation() {
        let data = build_precompile_data(&[([3; 32], [4; 64], message(0))]).unwrap();
        assert_eq!(
            parse_precompile_data(&data, 2),
            Err(ProtocolError::BadSignatureCount)
        );
        let mut padded = data.clone();
        padded[1] = 1;
        assert_eq!(
            parse_precompile_data(&padded, 1),
            Err(ProtocolError::BadPrecompileLayout)
        );
        let mut trailing = data.clone();
        trailing.push(0);
        assert_eq!(
            parse_precompile_data(&trailing, 1),
            Err(ProtocolError::BadPrecompileLayout)
        );
        // Message taken from another instruction.
        let mut elsewhere = data.clone();
        elsewhere[2 + 12..2 + 14].copy_from_slice(&0u16.to_le_bytes());
        assert_eq!(
            parse_precompile_data(&elsewhere, 1),
            Err(ProtocolError::BadPrecompileLayout)
        );
        let mut not_ours = data;
        let msg_at = 2 + 14 + 32 + 64;
        not_ours[msg_at] = b'X';
        assert_eq!(
            parse_precompile_data(&not_ours, 1),
            Err(ProtocolError::BadMagic)
        );
    }
}
