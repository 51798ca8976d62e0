//! The program's IDL in Anchor's JSON format (spec 0.1.0), generated from this crate:
//! discriminators from `discriminator`, account lists checked against the builders,
//! layouts as `layout!` recorded them, events, and every error. `settle`'s data is a
//! compact custom encoding that Anchor's type system cannot express; its IDL entry
//! carries the discriminator, the fixed accounts and the format in its docs.
//! `idl/micropay.json` is this output; a test fails when it drifts.

use std::{
    string::{String, ToString},
    vec,
    vec::Vec,
};

use serde_json::{json, Value};

use crate::{
    discriminator,
    event::{self, Event},
    instruction::{self as ix, AddSignerArgs, AmountArgs, SlotArgs},
    seeds,
    state::{AccountLayout, Config, Credit, Described, Params, Slot, Tab},
    MicropayError, ID, MAX_SLOTS, MEMO_PROGRAM_ID, SYSTEM_PROGRAM_ID,
};

/// An instruction: its name, accounts as `(name, writable, signer)`, and its
/// argument layout, if it has one.
pub struct InstructionSpec {
    pub name: &'static str,
    pub accounts: &'static [(&'static str, bool, bool)],
    pub args: Option<&'static str>,
    pub docs: &'static str,
}

const W: bool = true;
const S: bool = true;
const R: bool = false;
const N: bool = false;

const OWNER_TAB: &[(&str, bool, bool)] = &[("owner", R, S), ("config", R, N), ("tab", W, N)];
const OWNER_PAYOUT: &[(&str, bool, bool)] = &[
    ("owner", R, S),
    ("config", R, N),
    ("tab", W, N),
    ("vault", W, N),
    ("vault_authority", R, N),
    ("mint", R, N),
    ("destination", W, N),
    ("token_program", R, N),
];

pub const INSTRUCTIONS: &[InstructionSpec] = &[
    InstructionSpec {
        name: "init_config",
        accounts: &[
            ("admin", W, S),
            ("config", W, S),
            ("mint", R, N),
            ("vault", W, N),
            ("vault_authority", R, N),
            ("token_program", R, N),
            ("system_program", R, N),
        ],
        args: Some("Params"),
        docs: "A deployment for one mint and one sequencer, with its vault.",
    },
    InstructionSpec {
        name: "update_config",
        accounts: &[("admin", R, S), ("config", W, N)],
        args: Some("Params"),
        docs: "Schedules new parameters after a notice period no shorter than the withdrawal delay.",
    },
    InstructionSpec {
        name: "open_tab",
        accounts: &[("owner", W, S), ("config", W, N), ("tab", W, N), ("system_program", R, N)],
        args: None,
        docs: "Opens the owner's tab, PDA [\"tab\", config, owner].",
    },
    InstructionSpec {
        name: "deposit",
        accounts: &[
            ("depositor", R, S),
            ("config", R, N),
            ("tab", W, N),
            ("mint", R, N),
            ("source", W, N),
            ("vault", W, N),
            ("token_program", R, N),
        ],
        args: Some("AmountArgs"),
        docs: "Adds to a tab what the vault receives.",
    },
    InstructionSpec {
        name: "add_signer",
        accounts: OWNER_TAB,
        args: Some("AddSignerArgs"),
        docs: "Registers a session key in a stream slot, or raises a live key's cap or expiry.",
    },
    InstructionSpec {
        name: "remove_signer",
        accounts: OWNER_TAB,
        args: Some("SlotArgs"),
        docs: "Stops a session key; its states settle until now + withdrawal delay.",
    },
    InstructionSpec {
        name: "request_withdraw",
        accounts: OWNER_TAB,
        args: Some("AmountArgs"),
        docs: "Requests a withdrawal (0 cancels); a new request restarts the delay.",
    },
    InstructionSpec {
        name: "withdraw",
        accounts: OWNER_PAYOUT,
        args: None,
        docs: "Pays min(requested, balance) once the delay and every top-up window have passed.",
    },
    InstructionSpec {
        name: "close_tab",
        accounts: &[
            ("owner", W, S),
            ("config", R, N),
            ("tab", W, N),
            ("vault", W, N),
            ("vault_authority", R, N),
            ("mint", R, N),
            ("destination", W, N),
            ("token_program", R, N),
        ],
        args: None,
        docs: "Withdraws the whole balance as `withdraw` would, then closes the tab.",
    },
    InstructionSpec {
        name: "settle",
        accounts: &[
            ("settler", W, S),
            ("config", W, N),
            ("vault", W, N),
            ("vault_authority", R, N),
            ("mint", R, N),
            ("token_program", R, N),
            ("memo_program", R, N),
            ("system_program", R, N),
        ],
        args: None,
        docs: "Settles stream states. Remaining accounts: one tab per item, then per payee its token account, its credit and, where its bit says so, its wallet. Data after the discriminator: payee_count u8; wallet bits, ceil(payee_count/8) bytes; default fee_bps u16; item_count u8; per item: head u8 (bits 0-2 slot, 3 top-up, 4 receipt, 5 own fee), seq LEB128, [fee_bps u16], count u8 and (payee u8, amount LEB128) entries, [previous entries], signature [64], [receipt [64]].",
    },
    InstructionSpec {
        name: "claim_credit",
        accounts: &[
            ("wallet", R, S),
            ("config", R, N),
            ("credit", W, N),
            ("vault", W, N),
            ("vault_authority", R, N),
            ("mint", R, N),
            ("destination", W, N),
            ("token_program", R, N),
            ("rent_payer", W, N),
        ],
        args: None,
        docs: "Pays a wallet its credit and returns the credit's rent.",
    },
    InstructionSpec {
        name: "collect_fees",
        accounts: &[
            ("config", W, N),
            ("vault", W, N),
            ("vault_authority", R, N),
            ("mint", R, N),
            ("destination", W, N),
            ("token_program", R, N),
        ],
        args: None,
        docs: "Sweeps fees owed to a token account of the fee destination.",
    },
];

/// The discriminator constant of each instruction, by name.
pub fn instruction_discriminator(name: &str) -> Option<[u8; 8]> {
    Some(match name {
        "init_config" => ix::INIT_CONFIG,
        "update_config" => ix::UPDATE_CONFIG,
        "open_tab" => ix::OPEN_TAB,
        "deposit" => ix::DEPOSIT,
        "add_signer" => ix::ADD_SIGNER,
        "remove_signer" => ix::REMOVE_SIGNER,
        "request_withdraw" => ix::REQUEST_WITHDRAW,
        "withdraw" => ix::WITHDRAW,
        "close_tab" => ix::CLOSE_TAB,
        "settle" => ix::SETTLE,
        "claim_credit" => ix::CLAIM_CREDIT,
        "collect_fees" => ix::COLLECT_FEES,
        _ => return None,
    })
}

fn idl_type(ty: &str) -> Value {
    match ty {
        "Address" => json!("pubkey"),
        "U64" => json!("u64"),
        "I64" => json!("i64"),
        "U32" => json!("u32"),
        "U16" => json!("u16"),
        "u8" => json!("u8"),
        array if array.starts_with('[') => {
            let inner = &array[1..array.len() - 1];
            let (element, len) = inner.split_once(';').expect("[T; N]");
            let len = match len.trim() {
                "MAX_SLOTS" => MAX_SLOTS,
                number => number.parse().expect("array length"),
            };
            json!({ "array": [idl_type(element.trim()), len] })
        }
        defined => json!({ "defined": { "name": defined } }),
    }
}

fn type_def<T: Described>(skip_discriminator: bool) -> Value {
    let fields: Vec<Value> = T::FIELDS
        .iter()
        .filter(|(name, _)| !(skip_discriminator && *name == "discriminator"))
        .map(|(name, ty)| json!({ "name": name, "type": idl_type(ty) }))
        .collect();
    json!({
        "name": T::NAME,
        "serialization": "bytemuck",
        "repr": { "kind": "c", "packed": true },
        "type": { "kind": "struct", "fields": fields },
    })
}

fn account<T: AccountLayout + Described>() -> Value {
    json!({ "name": T::NAME, "discriminator": T::DISCRIMINATOR })
}

fn event<T: Event + Described>() -> (Value, Value) {
    (
        json!({ "name": T::NAME, "discriminator": T::DISCRIMINATOR }),
        type_def::<T>(false),
    )
}

/// An account's PDA seeds, in Anchor's form, when the instruction also names the
/// accounts they derive from (a deposit's tab is any payer's: no seeds there).
fn pda(account: &str, accounts: &[(&str, bool, bool)]) -> Option<Value> {
    let named = |name: &str| accounts.iter().any(|(n, _, _)| *n == name);
    let (seed, keys): (&[u8], &[&str]) = match account {
        "tab" if named("owner") => (seeds::TAB, &["config", "owner"]),
        "credit" if named("wallet") => (seeds::CREDIT, &["config", "wallet"]),
        "vault" => (seeds::VAULT, &["config"]),
        "vault_authority" => (seeds::VAULT_AUTHORITY, &["config"]),
        _ => return None,
    };
    let mut list = vec![json!({ "kind": "const", "value": seed })];
    list.extend(
        keys.iter()
            .map(|key| json!({ "kind": "account", "path": key })),
    );
    Some(json!({ "seeds": list }))
}

/// The address of an account that is always the same program.
fn fixed_address(account: &str) -> Option<String> {
    match account {
        "system_program" => Some(SYSTEM_PROGRAM_ID.to_string()),
        "memo_program" => Some(MEMO_PROGRAM_ID.to_string()),
        _ => None,
    }
}

/// The IDL as a JSON value.
pub fn idl() -> Value {
    let instructions: Vec<Value> = INSTRUCTIONS
        .iter()
        .map(|spec| {
            let discriminator = instruction_discriminator(spec.name).expect("known instruction");
            assert_eq!(discriminator, discriminator::instruction(spec.name));
            let accounts: Vec<Value> = spec
                .accounts
                .iter()
                .map(|(name, writable, signer)| {
                    let mut account =
                        json!({ "name": name, "writable": writable, "signer": signer });
                    if let Some(pda) = pda(name, spec.accounts) {
                        account["pda"] = pda;
                    }
                    if let Some(address) = fixed_address(name) {
                        account["address"] = address.into();
                    }
                    account
                })
                .collect();
            let args: Vec<Value> = spec
                .args
                .iter()
                .map(|args| json!({ "name": "args", "type": { "defined": { "name": args } } }))
                .collect();
            json!({
                "name": spec.name,
                "docs": [spec.docs],
                "discriminator": discriminator,
                "accounts": accounts,
                "args": args,
            })
        })
        .collect();
    let events = [
        event::<event::ConfigInitialized>(),
        event::<event::ConfigUpdateScheduled>(),
        event::<event::TabOpened>(),
        event::<event::Deposited>(),
        event::<event::SignerAdded>(),
        event::<event::SignerRemoved>(),
        event::<event::WithdrawRequested>(),
        event::<event::Withdrawn>(),
        event::<event::TabClosed>(),
        event::<event::StreamSettled>(),
        event::<event::PayeePaid>(),
        event::<event::CreditClaimed>(),
        event::<event::FeesCollected>(),
    ];
    let mut types = vec![
        type_def::<Config>(true),
        type_def::<Tab>(true),
        type_def::<Credit>(true),
        type_def::<Params>(false),
        type_def::<Slot>(false),
        type_def::<AmountArgs>(false),
        type_def::<SlotArgs>(false),
        type_def::<AddSignerArgs>(false),
    ];
    types.extend(events.iter().map(|(_, ty)| ty.clone()));
    let errors: Vec<Value> = MicropayError::ALL
        .iter()
        .map(|error| json!({ "code": error.code(), "name": error.name(), "msg": error.message() }))
        .collect();
    json!({
        "address": ID.to_string(),
        "metadata": {
            "name": "micropay",
            "version": env!("CARGO_PKG_VERSION"),
            "spec": "0.1.0",
            "description": "Escrowed tabs, streams of off-chain signed states, batched settlement",
        },
        "instructions": instructions,
        "accounts": [account::<Config>(), account::<Tab>(), account::<Credit>()],
        "events": events.iter().map(|(event, _)| event.clone()).collect::<Vec<_>>(),
        "errors": errors,
        "types": types,
    })
}

/// The IDL as pretty-printed JSON, as checked in at `idl/micropay.json`.
pub fn idl_json() -> String {
    let mut text = serde_json::to_string_pretty(&idl()).expect("json");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client;
    use solana_address::Address;

    const CHECKED_IN: &str = include_str!("../../idl/micropay.json");

    /// Regenerate with `MICROPAY_WRITE_IDL=1 cargo test -p micropay-interface --features idl idl`.
    #[test]
    fn the_checked_in_idl_is_current() {
        let generated = idl_json();
        if std::env::var_os("MICROPAY_WRITE_IDL").is_some() {
            std::fs::write(
                concat!(env!("CARGO_MANIFEST_DIR"), "/../idl/micropay.json"),
                &generated,
            )
            .expect("write idl");
            return;
        }
        assert!(
            generated == CHECKED_IN,
            "idl/micropay.json is stale: regenerate it with MICROPAY_WRITE_IDL=1"
        );
    }

    /// The builders and the IDL agree on every fixed account's order and flags.
    #[test]
    fn builders_match_the_idl_accounts() {
        let a = |byte| Address::new_from_array([byte; 32]);
        let params: Params = bytemuck::Zeroable::zeroed();
        let payout = client::Payout {
            config: &a(2),
            mint: &a(3),
            destination: &a(4),
            token_program: &a(5),
        };
        let deposit = client::Deposit {
            depositor: &a(1),
            config: &a(2),
            tab: &a(6),
            mint: &a(3),
            source: &a(4),
            token_program: &a(5),
        };
        let settle = client::settle(
            &client::SettleAccounts {
                settler: &a(1),
                config: &a(2),
                mint: &a(3),
                token_program: &a(5),
            },
            &[],
            &[],
        )
        .unwrap();
        let built = [
            (
                "init_config",
                client::init_config(&a(1), &a(2), &a(3), &a(5), &params),
            ),
            (
                "update_config",
                client::update_config(&a(1), &a(2), &params),
            ),
            ("open_tab", client::open_tab(&a(1), &a(2))),
            ("deposit", client::deposit(&deposit, 1)),
            (
                "add_signer",
                client::add_signer(&a(1), &a(2), 1, &a(7), 1, 1),
            ),
            ("remove_signer", client::remove_signer(&a(1), &a(2), 1)),
            (
                "request_withdraw",
                client::request_withdraw(&a(1), &a(2), 1),
            ),
            ("withdraw", client::withdraw(&a(1), &payout)),
            ("close_tab", client::close_tab(&a(1), &payout)),
            ("settle", settle),
            ("claim_credit", client::claim_credit(&a(1), &payout, &a(8))),
            ("collect_fees", client::collect_fees(&payout)),
        ];
        assert_eq!(built.len(), INSTRUCTIONS.len());
        for (name, instruction) in built {
            let spec = INSTRUCTIONS.iter().find(|spec| spec.name == name).unwrap();
            assert_eq!(
                instruction.data[..8],
                instruction_discriminator(name).unwrap(),
                "{name}"
            );
            assert_eq!(instruction.accounts.len(), spec.accounts.len(), "{name}");
            let idl_accounts = idl()["instructions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|ix| ix["name"] == name)
                .unwrap()["accounts"]
                .clone();
            let key_of = |account: &str| {
                let at = spec.accounts.iter().position(|(n, _, _)| *n == account);
                instruction.accounts[at.expect("a seed names an account")].pubkey
            };
            for ((meta, (account, writable, signer)), idl_account) in instruction
                .accounts
                .iter()
                .zip(spec.accounts)
                .zip(idl_accounts.as_array().unwrap())
            {
                assert_eq!(
                    (meta.is_writable, meta.is_signer),
                    (*writable, *signer),
                    "{name}: {account}"
                );
                // Seeds and fixed addresses in the IDL give what the builders use.
                if let Some(seed_list) = idl_account["pda"]["seeds"].as_array() {
                    let seed_bytes: Vec<Vec<u8>> = seed_list
                        .iter()
                        .map(|seed| match seed["kind"].as_str().unwrap() {
                            "const" => serde_json::from_value(seed["value"].clone()).unwrap(),
                            _ => key_of(seed["path"].as_str().unwrap()).as_ref().to_vec(),
                        })
                        .collect();
                    let refs: Vec<&[u8]> = seed_bytes.iter().map(Vec::as_slice).collect();
                    let (expected, _) = Address::find_program_address(&refs, &ID);
                    assert_eq!(meta.pubkey, expected, "{name}: {account} seeds");
                }
                if let Some(address) = idl_account["address"].as_str() {
                    assert_eq!(meta.pubkey.to_string(), address, "{name}: {account}");
                }
            }
        }
    }
}
