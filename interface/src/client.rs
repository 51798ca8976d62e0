//! Off-chain helpers: PDA derivation and instruction builders (feature `client`).

use std::{vec, vec::Vec};

use bytemuck::bytes_of;
use micropay_protocol::StreamState;
use solana_address::Address;
use solana_instruction::{AccountMeta, Instruction};

use crate::{
    instruction::{self as ix, settle, AddSignerArgs, AmountArgs, SlotArgs},
    seeds,
    state::{Params, I64, U64},
    MicropayError, ID, MEMO_PROGRAM_ID, SYSTEM_PROGRAM_ID,
};

pub fn vault_address(config: &Address) -> Address {
    Address::find_program_address(&[seeds::VAULT, config.as_ref()], &ID).0
}

pub fn vault_authority_address(config: &Address) -> Address {
    Address::find_program_address(&[seeds::VAULT_AUTHORITY, config.as_ref()], &ID).0
}

pub fn tab_address(config: &Address, owner: &Address) -> Address {
    Address::find_program_address(&[seeds::TAB, config.as_ref(), owner.as_ref()], &ID).0
}

pub fn credit_address(config: &Address, wallet: &Address) -> Address {
    Address::find_program_address(&[seeds::CREDIT, config.as_ref(), wallet.as_ref()], &ID).0
}

pub const ASSOCIATED_TOKEN_PROGRAM_ID: Address =
    Address::from_str_const("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL");

/// The wallet's associated token account of `mint`: where payees are normally paid.
pub fn associated_token_address(
    wallet: &Address,
    mint: &Address,
    token_program: &Address,
) -> Address {
    Address::find_program_address(
        &[wallet.as_ref(), token_program.as_ref(), mint.as_ref()],
        &ASSOCIATED_TOKEN_PROGRAM_ID,
    )
    .0
}

fn instruction(discriminator: [u8; 8], args: &[u8], accounts: Vec<AccountMeta>) -> Instruction {
    let mut data = discriminator.to_vec();
    data.extend_from_slice(args);
    Instruction {
        program_id: ID,
        accounts,
        data,
    }
}

fn amount(value: u64) -> AmountArgs {
    AmountArgs {
        amount: U64::new(value),
    }
}

pub fn init_config(
    admin: &Address,
    config: &Address,
    mint: &Address,
    token_program: &Address,
    params: &Params,
) -> Instruction {
    instruction(
        ix::INIT_CONFIG,
        bytes_of(params),
        vec![
            AccountMeta::new(*admin, true),
            AccountMeta::new(*config, true),
            AccountMeta::new_readonly(*mint, false),
            AccountMeta::new(vault_address(config), false),
            AccountMeta::new_readonly(vault_authority_address(config), false),
            AccountMeta::new_readonly(*token_program, false),
            AccountMeta::new_readonly(SYSTEM_PROGRAM_ID, false),
        ],
    )
}

pub fn update_config(admin: &Address, config: &Address, params: &Params) -> Instruction {
    instruction(
        ix::UPDATE_CONFIG,
        bytes_of(params),
        vec![
            AccountMeta::new_readonly(*admin, true),
            AccountMeta::new(*config, false),
        ],
    )
}

pub fn open_tab(owner: &Address, config: &Address) -> Instruction {
    instruction(
        ix::OPEN_TAB,
        &[],
        vec![
            AccountMeta::new(*owner, true),
            AccountMeta::new(*config, false),
            AccountMeta::new(tab_address(config, owner), false),
            AccountMeta::new_readonly(SYSTEM_PROGRAM_ID, false),
        ],
    )
}

/// Accounts shared by deposit: who pays, and which tab.
pub struct Deposit<'a> {
    pub depositor: &'a Address,
    pub config: &'a Address,
    pub tab: &'a Address,
    pub mint: &'a Address,
    pub source: &'a Address,
    pub token_program: &'a Address,
}

pub fn deposit(accounts: &Deposit, value: u64) -> Instruction {
    instruction(
        ix::DEPOSIT,
        bytes_of(&amount(value)),
        vec![
            AccountMeta::new_readonly(*accounts.depositor, true),
            AccountMeta::new_readonly(*accounts.config, false),
            AccountMeta::new(*accounts.tab, false),
            AccountMeta::new_readonly(*accounts.mint, false),
            AccountMeta::new(*accounts.source, false),
            AccountMeta::new(vault_address(accounts.config), false),
            AccountMeta::new_readonly(*accounts.token_program, false),
        ],
    )
}

fn owner_accounts(owner: &Address, config: &Address) -> Vec<AccountMeta> {
    vec![
        AccountMeta::new_readonly(*owner, true),
        AccountMeta::new_readonly(*config, false),
        AccountMeta::new(tab_address(config, owner), false),
    ]
}

pub fn add_signer(
    owner: &Address,
    config: &Address,
    slot: u8,
    key: &Address,
    expires_at: i64,
    cap: u64,
) -> Instruction {
    let args = AddSignerArgs {
        slot,
        key: *key,
        expires_at: I64::new(expires_at),
        cap: U64::new(cap),
    };
    instruction(
        ix::ADD_SIGNER,
        bytes_of(&args),
        owner_accounts(owner, config),
    )
}

pub fn remove_signer(owner: &Address, config: &Address, slot: u8) -> Instruction {
    instruction(
        ix::REMOVE_SIGNER,
        bytes_of(&SlotArgs { slot }),
        owner_accounts(owner, config),
    )
}

pub fn request_withdraw(owner: &Address, config: &Address, value: u64) -> Instruction {
    instruction(
        ix::REQUEST_WITHDRAW,
        bytes_of(&amount(value)),
        owner_accounts(owner, config),
    )
}

/// `[vault, vault_authority, mint]` of a config.
fn vault_accounts(config: &Address, mint: &Address) -> [AccountMeta; 3] {
    [
        AccountMeta::new(vault_address(config), false),
        AccountMeta::new_readonly(vault_authority_address(config), false),
        AccountMeta::new_readonly(*mint, false),
    ]
}

/// Where a payout out of the vault goes.
pub struct Payout<'a> {
    pub config: &'a Address,
    pub mint: &'a Address,
    pub destination: &'a Address,
    pub token_program: &'a Address,
}

pub fn withdraw(owner: &Address, payout: &Payout) -> Instruction {
    owner_payout(ix::WITHDRAW, owner, payout, false)
}

pub fn close_tab(owner: &Address, payout: &Payout) -> Instruction {
    owner_payout(ix::CLOSE_TAB, owner, payout, true)
}

fn owner_payout(
    discriminator: [u8; 8],
    owner: &Address,
    payout: &Payout,
    closes: bool,
) -> Instruction {
    let mut accounts = vec![
        if closes {
            AccountMeta::new(*owner, true)
        } else {
            AccountMeta::new_readonly(*owner, true)
        },
        AccountMeta::new_readonly(*payout.config, false),
        AccountMeta::new(tab_address(payout.config, owner), false),
    ];
    accounts.extend(vault_accounts(payout.config, payout.mint));
    accounts.push(AccountMeta::new(*payout.destination, false));
    accounts.push(AccountMeta::new_readonly(*payout.token_program, false));
    instruction(discriminator, &[], accounts)
}

pub fn claim_credit(wallet: &Address, payout: &Payout, rent_payer: &Address) -> Instruction {
    let mut accounts = vec![
        AccountMeta::new_readonly(*wallet, true),
        AccountMeta::new_readonly(*payout.config, false),
        AccountMeta::new(credit_address(payout.config, wallet), false),
    ];
    accounts.extend(vault_accounts(payout.config, payout.mint));
    accounts.push(AccountMeta::new(*payout.destination, false));
    accounts.push(AccountMeta::new_readonly(*payout.token_program, false));
    accounts.push(AccountMeta::new(*rent_payer, false));
    instruction(ix::CLAIM_CREDIT, &[], accounts)
}

pub fn collect_fees(payout: &Payout) -> Instruction {
    let mut accounts = vec![AccountMeta::new(*payout.config, false)];
    accounts.extend(vault_accounts(payout.config, payout.mint));
    accounts.push(AccountMeta::new(*payout.destination, false));
    accounts.push(AccountMeta::new_readonly(*payout.token_program, false));
    instruction(ix::COLLECT_FEES, &[], accounts)
}

/// A payee of a settlement: its wallet, the token account to pay, and whether to pass
/// the wallet too (needed when the token account cannot be read, e.g. it was closed,
/// and no credit exists yet).
#[derive(Clone, Debug)]
pub struct SettlePayee {
    pub wallet: Address,
    pub token_account: Address,
    pub pass_wallet: bool,
}

impl SettlePayee {
    /// The payee paid at its associated token account. `token_account` is that
    /// account as the chain holds it (`(owner program, data)`, `None` if missing): the
    /// wallet is passed too only when the program cannot read it from there (missing
    /// or closed), so that it can still name whom it credits.
    pub fn associated(
        wallet: &Address,
        mint: &Address,
        token_program: &Address,
        token_account: Option<(&Address, &[u8])>,
    ) -> Self {
        let readable = token_account.is_some_and(|(owner, data)| {
            owner == token_program
                && data.len() >= 64
                && data[..32] == *mint.as_ref()
                && data[32..64] == *wallet.as_ref()
        });
        Self {
            wallet: *wallet,
            token_account: associated_token_address(wallet, mint, token_program),
            pass_wallet: !readable,
        }
    }

    /// The payee's accounts in a settle instruction under `config`.
    pub fn metas(&self, config: &Address) -> impl Iterator<Item = AccountMeta> {
        [
            Some(AccountMeta::new(self.token_account, false)),
            Some(AccountMeta::new(
                credit_address(config, &self.wallet),
                false,
            )),
            self.pass_wallet
                .then(|| AccountMeta::new_readonly(self.wallet, false)),
        ]
        .into_iter()
        .flatten()
    }
}

/// One stream state to settle. Entries are `(payee wallet, amount)` sorted by wallet,
/// exactly as signed; `previous` carries the settled entries for a top-up.
#[derive(Clone, Debug)]
pub struct SettleItem {
    pub tab: Address,
    pub slot: u8,
    pub seq: u32,
    pub fee_bps: u16,
    pub entries: Vec<(Address, u64)>,
    pub previous: Option<Vec<(Address, u64)>>,
    pub signature: [u8; 64],
    pub receipt: Option<[u8; 64]>,
}

impl SettleItem {
    /// The item for a signed stream state, with the previously settled entries for a
    /// top-up, and the sequencer's receipt when someone else than the sequencer sends it.
    pub fn for_state(
        state: &StreamState,
        signature: [u8; 64],
        previous: Option<Vec<(Address, u64)>>,
        receipt: Option<[u8; 64]>,
    ) -> Self {
        Self {
            tab: state.tab,
            slot: state.slot,
            seq: state.seq,
            fee_bps: state.fee_bps,
            entries: state.entry_list(),
            previous,
            signature,
            receipt,
        }
    }

    /// Bytes this item adds to a settle instruction's data whose first item has
    /// `batch_fee_bps` (an item with another fee carries its own).
    pub fn encoded_len(&self, batch_fee_bps: u16) -> Result<usize, MicropayError> {
        let mut data = Vec::new();
        // Every payee index is one byte, whichever it is.
        encode_item(&mut data, self, batch_fee_bps, |_| Ok(0))?;
        Ok(data.len())
    }

    /// The item's account in a settle instruction: its tab.
    pub fn meta(&self) -> AccountMeta {
        AccountMeta::new(self.tab, false)
    }
}

/// What a settlement needs besides its items and payees.
pub struct SettleAccounts<'a> {
    pub settler: &'a Address,
    pub config: &'a Address,
    pub mint: &'a Address,
    pub token_program: &'a Address,
}

/// Bytes of a settle instruction's data before its items, with `payees` payees: the
/// discriminator, the payee count and their wallet bits, the batch fee, the item count.
pub fn settle_head_len(payees: usize) -> usize {
    ix::SETTLE.len() + 1 + payees.div_ceil(8) + 2 + 1
}

pub fn settle(
    accounts: &SettleAccounts,
    items: &[SettleItem],
    payees: &[SettlePayee],
) -> Result<Instruction, MicropayError> {
    let index_of = |wallet: &Address| {
        payees
            .iter()
            .position(|payee| &payee.wallet == wallet)
            .map(|index| index as u8)
            .ok_or(MicropayError::BadPayeeIndex)
    };
    let mut data = vec![count(payees.len())?];
    let mut wallet_bits = vec![0u8; payees.len().div_ceil(8)];
    for (index, payee) in payees.iter().enumerate() {
        if payee.pass_wallet {
            wallet_bits[index / 8] |= 1 << (index % 8);
        }
    }
    data.extend(wallet_bits);
    let fee_bps = items.first().map_or(0, |item| item.fee_bps);
    data.extend_from_slice(&fee_bps.to_le_bytes());
    data.push(count(items.len())?);
    for item in items {
        encode_item(&mut data, item, fee_bps, index_of)?;
    }
    let mut metas = vec![
        AccountMeta::new(*accounts.settler, true),
        AccountMeta::new(*accounts.config, false),
    ];
    metas.extend(vault_accounts(accounts.config, accounts.mint));
    metas.push(AccountMeta::new_readonly(*accounts.token_program, false));
    metas.push(AccountMeta::new_readonly(MEMO_PROGRAM_ID, false));
    metas.push(AccountMeta::new_readonly(SYSTEM_PROGRAM_ID, false));
    metas.extend(items.iter().map(SettleItem::meta));
    for payee in payees {
        metas.extend(payee.metas(accounts.config));
    }
    Ok(instruction(ix::SETTLE, &data, metas))
}

fn count(len: usize) -> Result<u8, MicropayError> {
    u8::try_from(len).map_err(|_| MicropayError::TooManyItems)
}

fn encode_item(
    data: &mut Vec<u8>,
    item: &SettleItem,
    fee_bps: u16,
    index_of: impl Fn(&Address) -> Result<u8, MicropayError>,
) -> Result<(), MicropayError> {
    if item.slot > settle::SLOT_MASK {
        return Err(MicropayError::BadSlot);
    }
    let mut head = item.slot;
    if item.previous.is_some() {
        head |= settle::ITEM_TOP_UP;
    }
    if item.receipt.is_some() {
        head |= settle::ITEM_RECEIPT;
    }
    if item.fee_bps != fee_bps {
        head |= settle::ITEM_OWN_FEE;
    }
    data.push(head);
    settle::write_varint(data, item.seq as u64);
    if item.fee_bps != fee_bps {
        data.extend_from_slice(&item.fee_bps.to_le_bytes());
    }
    for entries in std::iter::once(&item.entries).chain(item.previous.as_ref()) {
        data.push(count(entries.len())?);
        for (wallet, amount) in entries {
            data.push(index_of(wallet)?);
            settle::write_varint(data, *amount);
        }
    }
    data.extend_from_slice(&item.signature);
    if let Some(receipt) = &item.receipt {
        data.extend_from_slice(receipt);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instruction::settle::Reader;

    fn address(byte: u8) -> Address {
        Address::new_from_array([byte; 32])
    }

    #[test]
    fn settle_data_parses_back_as_built() {
        let payees = vec![
            SettlePayee {
                wallet: address(1),
                token_account: address(11),
                pass_wallet: false,
            },
            SettlePayee {
                wallet: address(2),
                token_account: address(12),
                pass_wallet: true,
            },
        ];
        let open = SettleItem {
            tab: address(20),
            slot: 0,
            seq: 7,
            fee_bps: 100,
            entries: vec![(address(1), 5), (address(2), 6)],
            previous: None,
            signature: [3; 64],
            receipt: None,
        };
        let top_up = SettleItem {
            tab: address(21),
            slot: 2,
            seq: 9,
            fee_bps: 50,
            entries: vec![(address(2), 10)],
            previous: Some(vec![(address(2), 4)]),
            signature: [4; 64],
            receipt: Some([5; 64]),
        };
        let (settler, config, mint, token_program) =
            (address(30), address(31), address(32), address(33));
        let accounts = SettleAccounts {
            settler: &settler,
            config: &config,
            mint: &mint,
            token_program: &token_program,
        };
        let built = settle(&accounts, &[open.clone(), top_up.clone()], &payees).unwrap();
        assert_eq!(built.data[..8], ix::SETTLE);
        // The lengths the packer predicts: the head, then each item against the first's fee.
        assert_eq!(
            built.data.len(),
            settle_head_len(2) + open.encoded_len(100).unwrap() + top_up.encoded_len(100).unwrap()
        );
        assert_eq!(
            top_up.encoded_len(100).unwrap(),
            1 + 1 + 2 + 1 + 2 + 1 + 2 + 64 + 64
        );
        // 8 fixed, 2 tabs, 2 + 3 payee accounts.
        assert_eq!(built.accounts.len(), 8 + 2 + 5);
        assert_eq!(built.accounts[8].pubkey, address(20));
        assert_eq!(built.accounts[14].pubkey, address(2));
        assert!(!built.accounts[14].is_writable);

        let mut reader = Reader::new(&built.data[8..]).unwrap();
        assert_eq!(reader.payee_count, 2);
        assert!(!reader.wallet_follows(0) && reader.wallet_follows(1));
        assert_eq!(reader.fee_bps, 100);
        assert_eq!(reader.item_count, 2);
        let first = reader.next_item().unwrap().unwrap();
        assert_eq!(
            (first.slot, first.seq, first.fee_bps, first.top_up),
            (0, 7, 100, false)
        );
        assert_eq!(
            first.entries.iter().collect::<Vec<_>>(),
            vec![(0, 5), (1, 6)]
        );
        assert!(first.receipt.is_none());
        let second = reader.next_item().unwrap().unwrap();
        assert_eq!(
            (second.slot, second.seq, second.fee_bps, second.top_up),
            (2, 9, 50, true)
        );
        assert_eq!(second.previous.iter().collect::<Vec<_>>(), vec![(1, 4)]);
        assert_eq!(second.receipt, Some(&[5; 64]));
        assert!(reader.next_item().unwrap().is_none());
    }

    #[test]
    fn settle_data_with_trailing_bytes_or_too_many_entries_is_refused() {
        // No payees, fee 0, no items, one byte too many.
        let mut reader = Reader::new(&[0, 0, 0, 0, 7]).unwrap();
        assert_eq!(
            reader.next_item().unwrap_err(),
            MicropayError::InvalidInstruction
        );
        // One item: head, seq, then an entry count above the limit.
        let count = crate::MAX_ENTRIES as u8 + 1;
        let data = [0, 0, 0, 1, 0, 0, count];
        let mut reader = Reader::new(&data).unwrap();
        assert_eq!(reader.next_item().unwrap_err(), MicropayError::TooManyItems);
        // Truncated.
        let mut reader = Reader::new(&[0, 0, 0, 1, 0]).unwrap();
        assert_eq!(
            reader.next_item().unwrap_err(),
            MicropayError::InvalidInstruction
        );
    }
}
