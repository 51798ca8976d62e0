//! `settle`: pays payees what streams signed, netted per payee, in one transaction.
//!
//! Who may settle: the sequencer in force (it signs the transaction), or anyone whose
//! items each carry a sequencer's receipt. Each item is one stream's state, verified
//! in the program against the slot's key, and is either:
//! - open epoch (`epoch == slot epoch`), once the slot's last settlement is past its
//!   top-up window: debits the tab, records the settlement and advances the epoch;
//! - top-up of the epoch settled last, within its window, with a higher seq: carries
//!   the settled entries (checked against the recorded hash), may only raise amounts,
//!   and pays the differences. The window's start never moves.
//!
//! Then each distinct payee gets one transfer of its net amount (a memo first where
//! its account requires one), or, when its account cannot receive, a credit.
//! See `micropay_interface::instruction::settle` for the accounts and data.

use alloc::vec::Vec;

use micropay_interface::{
    event::{PayeePaid, StreamSettled},
    instruction::settle::{Entries, Item, Reader, FIXED_ACCOUNTS},
    seeds,
    state::{AccountLayout, Config, Credit, Params, Slot, I64, U16, U32, U64},
    MicropayError, ACCOUNT_VERSION, ID, MAX_ENTRIES, MAX_SLOTS, MEMO_PROGRAM_ID,
};
use micropay_protocol::{
    ed25519::verify_strict, entries_hash_in, fee::fee, StreamMessage, ENTRY_HASH_LEN,
};
use pinocchio::{
    cpi::Seed, error::ProgramError, instruction::InstructionView, AccountView, Address,
    ProgramResult,
};

use super::shared::{
    accounts::{
        config, config_mut, credit as read_credit, credit_mut, require_signer, require_writable,
        tab_mut,
    },
    checked_add, checked_sub,
    create::{create_or_adopt, require_system_program, NewAccount},
    event::emit,
    now,
    token::read_token_account,
    vault::Vault,
};

/// One distinct payee of the settlement.
struct Payee {
    wallet: Address,
    /// Index among the payee accounts of its token account; its credit follows.
    token_account: usize,
    can_receive: bool,
    memo_required: bool,
    gross: u64,
    fee: u64,
}

/// What every item is checked against.
struct Context<'a> {
    config_key: &'a Address,
    config: &'a Config,
    params: Params,
    now: i64,
    by_sequencer: bool,
}

#[inline(never)]
pub fn process(accounts: &mut [AccountView], data: &[u8]) -> ProgramResult {
    let mut reader = Reader::new(data)?;
    if reader.item_count == 0 {
        return Err(MicropayError::EmptySettlement.into());
    }
    if accounts.len() < FIXED_ACCOUNTS + reader.item_count {
        return Err(MicropayError::NotEnoughAccounts.into());
    }
    let (fixed, rest) = accounts.split_at_mut(FIXED_ACCOUNTS);
    let [settler, config_account, vault, vault_authority, mint, token_program, memo_program, system_program] =
        fixed
    else {
        return Err(MicropayError::NotEnoughAccounts.into());
    };
    require_signer(settler)?;
    require_writable(settler)?;
    require_writable(config_account)?;
    require_system_program(system_program)?;
    if memo_program.address() != &MEMO_PROGRAM_ID {
        return Err(MicropayError::WrongAccountData.into());
    }
    let config_key = *config_account.address();
    let config_copy = config(config_account)?;
    let vault = Vault::new(
        &config_key,
        &config_copy,
        vault,
        vault_authority,
        mint,
        token_program,
    )?;
    let now = now()?;
    let params = config_copy.params_at(now);
    let context = Context {
        config_key: &config_key,
        config: &config_copy,
        params,
        now,
        by_sequencer: settler.address() == &params.sequencer,
    };

    let (tabs, payee_accounts) = rest.split_at_mut(reader.item_count);
    let mut payees = resolve_payees(
        &PayeeAccounts {
            reader: &reader,
            accounts: payee_accounts,
            tabs,
        },
        &context,
        &vault,
    )?;

    let mut index = 0;
    while let Some(item) = reader.next_item()? {
        settle_item(&item, &mut tabs[index], &context, &mut payees)?;
        index += 1;
    }

    let fees = Payout {
        payees: &payees,
        accounts: payee_accounts,
        settler,
        vault: &vault,
        context: &context,
    }
    .pay()?;
    let mut config = config_mut(config_account)?;
    config.fees_owed = U64::new(checked_add(config.fees_owed.get(), fees)?);
    Ok(())
}

/// One transfer per payee of its net amount (a memo first where its account requires
/// one), or a credit when its account cannot receive. Returns the fees withheld.
struct Payout<'a> {
    payees: &'a [Payee],
    accounts: &'a [AccountView],
    settler: &'a AccountView,
    vault: &'a Vault<'a>,
    context: &'a Context<'a>,
}

impl Payout<'_> {
    #[inline(never)]
    fn pay(&self) -> Result<u64, ProgramError> {
        let Payout {
            payees,
            accounts: payee_accounts,
            settler,
            vault,
            context,
        } = *self;
        let mut fees = 0u64;
        for payee in payees.iter().filter(|payee| payee.gross > 0) {
            let net = checked_sub(payee.gross, payee.fee)?;
            fees = checked_add(fees, payee.fee)?;
            let token_account = &payee_accounts[payee.token_account];
            let credited = if payee.can_receive {
                if payee.memo_required {
                    memo()?;
                }
                vault.pay(token_account, net)?;
                false
            } else {
                let mut credit_account = payee_accounts[payee.token_account + 1];
                credit(&mut credit_account, settler, &payee.wallet, net, context)?;
                true
            };
            emit(&PayeePaid {
                wallet: payee.wallet,
                net: U64::new(net),
                fee: U64::new(payee.fee),
                credited: credited as u8,
            });
        }
        Ok(fees)
    }
}

/// The memo a memo-required token account needs before an incoming transfer.
#[inline(never)]
fn memo() -> ProgramResult {
    // The memo program takes no accounts here, so the generic helpers' 64-account
    // buffers (too large for an SBF stack frame) are avoided.
    pinocchio::cpi::invoke::<0, &AccountView>(
        &InstructionView {
            program_id: &MEMO_PROGRAM_ID,
            accounts: &[],
            data: b"micropay",
        },
        &[],
    )
}

/// Reads each payee's wallet from its token account (whose owner field is the wallet
/// the entries hash covers), else from the wallet account that follows, else from its
/// existing credit; and whether the token account can receive now.
/// The payee part of the accounts, with the reader saying how many each payee uses.
struct PayeeAccounts<'a> {
    reader: &'a Reader<'a>,
    accounts: &'a [AccountView],
    tabs: &'a [AccountView],
}

#[inline(never)]
fn resolve_payees(
    payee_accounts: &PayeeAccounts,
    context: &Context,
    vault: &Vault,
) -> Result<Vec<Payee>, ProgramError> {
    let PayeeAccounts {
        reader,
        accounts,
        tabs,
    } = *payee_accounts;
    let mut payees: Vec<Payee> = Vec::with_capacity(reader.payee_count);
    let mut cursor = 0;
    for index in 0..reader.payee_count {
        let wallet_follows = reader.wallet_follows(index);
        let used = 2 + wallet_follows as usize;
        if cursor + used > accounts.len() {
            return Err(MicropayError::NotEnoughAccounts.into());
        }
        let token_account = &accounts[cursor];
        let token = read_token_account(token_account, &context.config.token_program)
            .filter(|token| token.mint == context.config.mint);
        let wallet = match (token, wallet_follows) {
            (Some(token), true) if &token.owner != accounts[cursor + 2].address() => {
                return Err(MicropayError::PayeeWalletUnknown.into())
            }
            (Some(token), _) => token.owner,
            (None, true) => *accounts[cursor + 2].address(),
            (None, false) => existing_credit_wallet(&accounts[cursor + 1], context)?,
        };
        let refused = &wallet == context.config_key
            || &wallet == vault.authority.address()
            || token_account.address() == vault.vault.address()
            || tabs.iter().any(|tab| tab.address() == &wallet);
        if refused {
            return Err(MicropayError::RefusedPayee.into());
        }
        if payees.iter().any(|payee| payee.wallet == wallet) {
            return Err(MicropayError::DuplicateAccount.into());
        }
        let receiver = token.filter(|token| token.can_receive && token_account.is_writable());
        payees.push(Payee {
            wallet,
            token_account: cursor,
            can_receive: receiver.is_some(),
            memo_required: receiver.is_some_and(|token| token.memo_required),
            gross: 0,
            fee: 0,
        });
        cursor += used;
    }
    if cursor != accounts.len() {
        return Err(MicropayError::InvalidInstruction.into());
    }
    Ok(payees)
}

fn existing_credit_wallet(
    account: &AccountView,
    context: &Context,
) -> Result<Address, ProgramError> {
    let credit = read_credit(account).map_err(|_| MicropayError::PayeeWalletUnknown)?;
    if &credit.config != context.config_key {
        return Err(MicropayError::PayeeWalletUnknown.into());
    }
    Ok(credit.wallet)
}

#[inline(never)]
fn settle_item(
    item: &Item,
    tab_account: &mut AccountView,
    context: &Context,
    payees: &mut [Payee],
) -> ProgramResult {
    let tab_key = *tab_account.address();
    let mut tab = tab_mut(tab_account, context.config_key)?;
    let index = item.slot as usize;
    if index >= MAX_SLOTS {
        return Err(MicropayError::BadSlot.into());
    }
    let incarnation = tab.incarnation.get();
    let balance = tab.balance.get();
    let slot: &mut Slot = &mut tab.slots[index];
    if !slot.has_key() {
        return Err(MicropayError::SlotEmpty.into());
    }
    if !slot.is_valid(context.now) {
        return Err(MicropayError::SlotNoLongerValid.into());
    }
    let rate = |amount| fee(amount, item.fee_bps, context.params.fee_bps.get());
    let mut buffer = [0u8; MAX_ENTRIES * ENTRY_HASH_LEN];
    let (entries_hash, total) = hash_entries(&item.entries, payees, &mut buffer)?;
    let window = context.params.top_up_window.get();
    let (epoch, paid) = if item.top_up {
        if slot.epoch.get() == 0 || slot.last_settled_at.get() == 0 {
            return Err(MicropayError::StaleEpoch.into());
        }
        if !slot.in_top_up_window(context.now, window) {
            return Err(MicropayError::WindowClosed.into());
        }
        if item.seq <= slot.last_seq.get() {
            return Err(MicropayError::SeqNotHigher.into());
        }
        let (previous_hash, previous_total) = hash_entries(&item.previous, payees, &mut buffer)?;
        if previous_hash != slot.last_entries_hash
            || previous_total != slot.last_total.get()
            || item.previous.len() != slot.last_count.get() as usize
        {
            return Err(MicropayError::PreviousEntriesMismatch.into());
        }
        add_differences(&item.previous, &item.entries, payees, rate)?;
        (slot.epoch.get() - 1, checked_sub(total, previous_total)?)
    } else {
        if slot.in_top_up_window(context.now, window) {
            return Err(MicropayError::WindowNotPassed.into());
        }
        for (payee, amount) in item.entries.iter() {
            add_gross(&mut payees[payee as usize], amount, rate(amount))?;
        }
        (slot.epoch.get(), total)
    };

    let message = StreamMessage {
        tab: tab_key,
        incarnation,
        slot: item.slot,
        epoch,
        seq: item.seq,
        fee_bps: item.fee_bps,
        total,
        entries_hash,
        count: item.entries.len() as u16,
    };
    if !verify_strict(slot.key.as_array(), &message.state_bytes(), item.signature) {
        return Err(MicropayError::BadSignature.into());
    }
    if !context.by_sequencer {
        let receipt = item.receipt.ok_or(MicropayError::NotSequencer)?;
        if !receipt_verifies(&message, receipt, context) {
            return Err(MicropayError::BadReceipt.into());
        }
    }

    let spent = checked_add(slot.spent.get(), paid)?;
    if index > 0 && spent > slot.cap.get() {
        return Err(MicropayError::SessionCapExceeded.into());
    }
    slot.spent = U64::new(spent);
    if !item.top_up {
        slot.epoch = U64::new(checked_add(slot.epoch.get(), 1)?);
        slot.last_settled_at = I64::new(context.now);
    }
    slot.last_seq = U32::new(item.seq);
    slot.last_count = U16::new(item.entries.len() as u16);
    slot.last_total = U64::new(total);
    slot.last_entries_hash = entries_hash;
    tab.balance = U64::new(checked_sub(balance, paid)?);
    emit(&StreamSettled {
        tab: tab_key,
        slot: item.slot,
        top_up: item.top_up as u8,
        epoch: U64::new(epoch),
        seq: U32::new(item.seq),
        paid: U64::new(paid),
    });
    Ok(())
}

/// Checks the entries (at least one, payees in range and strictly ascending by wallet,
/// amounts above zero) and returns their hash and total.
#[inline(never)]
fn hash_entries(
    entries: &Entries,
    payees: &[Payee],
    buffer: &mut [u8; MAX_ENTRIES * ENTRY_HASH_LEN],
) -> Result<([u8; 32], u64), ProgramError> {
    if entries.is_empty() {
        return Err(MicropayError::EmptyState.into());
    }
    let mut total = 0u64;
    let mut previous: Option<&Address> = None;
    for (payee, amount) in entries.iter() {
        let wallet = &payees
            .get(payee as usize)
            .ok_or(MicropayError::BadPayeeIndex)?
            .wallet;
        if amount == 0 {
            return Err(MicropayError::ZeroAmount.into());
        }
        if previous.is_some_and(|previous| previous.as_ref() >= wallet.as_ref()) {
            return Err(MicropayError::EntriesNotSorted.into());
        }
        previous = Some(wallet);
        total = checked_add(total, amount)?;
    }
    let hash = entries_hash_in(
        buffer,
        entries
            .iter()
            .map(|(payee, amount)| (&payees[payee as usize].wallet, amount)),
    );
    Ok((hash, total))
}

/// A top-up pays each payee the rise of its amount; no payee may be lowered or
/// dropped. Both lists are sorted by wallet.
#[inline(always)]
fn add_differences(
    previous: &Entries,
    entries: &Entries,
    payees: &mut [Payee],
    rate: impl Fn(u64) -> u64,
) -> ProgramResult {
    let mut old = previous.iter().peekable();
    for (payee, amount) in entries.iter() {
        let mut raise = amount;
        if let Some(&(old_payee, old_amount)) = old.peek() {
            if payees[old_payee as usize].wallet.as_ref() < payees[payee as usize].wallet.as_ref() {
                // An old payee missing from the new state.
                return Err(MicropayError::AmountDecreased.into());
            }
            if old_payee == payee {
                raise = amount
                    .checked_sub(old_amount)
                    .ok_or(MicropayError::AmountDecreased)?;
                old.next();
            }
        }
        if raise > 0 {
            add_gross(&mut payees[payee as usize], raise, rate(raise))?;
        }
    }
    if old.next().is_some() {
        return Err(MicropayError::AmountDecreased.into());
    }
    Ok(())
}

fn add_gross(payee: &mut Payee, amount: u64, fee: u64) -> ProgramResult {
    payee.gross = checked_add(payee.gross, amount)?;
    payee.fee = checked_add(payee.fee, fee)?;
    Ok(())
}

/// A receipt by the sequencer in force, or by an outgoing one within its notice.
#[inline(never)]
fn receipt_verifies(message: &StreamMessage, receipt: &[u8; 64], context: &Context) -> bool {
    let bytes = message.receipt_bytes();
    let config = context.config;
    let candidates = [
        config.params.sequencer,
        config.pending.sequencer,
        config.outgoing_sequencer,
    ];
    candidates.iter().enumerate().any(|(index, key)| {
        !candidates[..index].contains(key)
            && config.is_receipt_signer(key, context.now)
            && verify_strict(key.as_array(), &bytes, receipt)
    })
}

/// Adds `amount` to the wallet's credit, creating it (rent paid by the settler) when
/// it does not exist yet.
#[inline(never)]
fn credit(
    account: &mut AccountView,
    settler: &AccountView,
    wallet: &Address,
    amount: u64,
    context: &Context,
) -> ProgramResult {
    require_writable(account)?;
    let address = *account.address();
    if account.owned_by(&ID) {
        let mut credit = credit_mut(account)?;
        let expected = Address::derive_address(
            &[seeds::CREDIT, context.config_key.as_ref(), wallet.as_ref()],
            Some(credit.bump),
            &ID,
        );
        if &credit.config != context.config_key || &credit.wallet != wallet {
            return Err(MicropayError::WrongCredit.into());
        }
        if address != expected {
            return Err(MicropayError::WrongCredit.into());
        }
        credit.amount = U64::new(checked_add(credit.amount.get(), amount)?);
        return Ok(());
    }
    let (expected, bump) = Address::find_program_address(
        &[seeds::CREDIT, context.config_key.as_ref(), wallet.as_ref()],
        &ID,
    );
    if address != expected {
        return Err(MicropayError::WrongCredit.into());
    }
    let bump_seed = [bump];
    create_or_adopt(&NewAccount {
        payer: settler,
        account: account,
        space: Credit::LEN,
        owner: &ID,
        seeds: &[
            Seed::from(seeds::CREDIT),
            Seed::from(context.config_key.as_ref()),
            Seed::from(wallet.as_ref()),
            Seed::from(&bump_seed),
        ],
    })?;
    let record = Credit {
        discriminator: Credit::DISCRIMINATOR,
        version: ACCOUNT_VERSION,
        bump,
        _padding: [0; 6],
        config: *context.config_key,
        wallet: *wallet,
        amount: U64::new(amount),
        rent_payer: *settler.address(),
    };
    account
        .try_borrow_mut()?
        .copy_from_slice(bytemuck::bytes_of(&record));
    Ok(())
}
