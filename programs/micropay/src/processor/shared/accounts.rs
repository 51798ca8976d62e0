//! Account checks: signer, writable, owner, and typed views of micropay accounts.

use micropay_interface::{
    state::{AccountLayout, Config, Credit, Tab},
    MicropayError, ID,
};
use pinocchio::{
    account::{Ref, RefMut},
    error::ProgramError,
    AccountView, Address, ProgramResult,
};

pub fn require_signer(account: &AccountView) -> ProgramResult {
    if account.is_signer() {
        Ok(())
    } else {
        Err(MicropayError::MissingSignature.into())
    }
}

pub fn require_writable(account: &AccountView) -> ProgramResult {
    if account.is_writable() {
        Ok(())
    } else {
        Err(MicropayError::AccountNotWritable.into())
    }
}

fn view<'a, T: AccountLayout>(account: &'a AccountView) -> Result<Ref<'a, T>, ProgramError> {
    if !account.owned_by(&ID) {
        return Err(MicropayError::WrongAccountOwner.into());
    }
    Ref::try_map(account.try_borrow()?, |data| {
        T::view(data).ok_or(ProgramError::from(MicropayError::WrongAccountData))
    })
    .map_err(|(_, error)| error)
}

fn view_mut<'a, T: AccountLayout>(
    account: &'a mut AccountView,
) -> Result<RefMut<'a, T>, ProgramError> {
    if !account.owned_by(&ID) {
        return Err(MicropayError::WrongAccountOwner.into());
    }
    require_writable(account)?;
    RefMut::try_map(account.try_borrow_mut()?, |data| {
        T::view_mut(data).ok_or(ProgramError::from(MicropayError::WrongAccountData))
    })
    .map_err(|(_, error)| error)
}

/// A copy of the config at `account`.
pub fn config(account: &AccountView) -> Result<Config, ProgramError> {
    Ok(*view::<Config>(account)?)
}

pub fn config_mut(account: &mut AccountView) -> Result<RefMut<'_, Config>, ProgramError> {
    view_mut(account)
}

/// The tab at `account`, which must belong to `config`.
pub fn tab_mut<'a>(
    account: &'a mut AccountView,
    config: &Address,
) -> Result<RefMut<'a, Tab>, ProgramError> {
    let tab = view_mut::<Tab>(account)?;
    if &tab.config != config {
        return Err(MicropayError::WrongTab.into());
    }
    Ok(tab)
}

/// The tab at `account`, owned by `owner` who signed, in `config`.
pub fn owned_tab_mut<'a>(
    account: &'a mut AccountView,
    config: &Address,
    owner: &AccountView,
) -> Result<RefMut<'a, Tab>, ProgramError> {
    require_signer(owner)?;
    let tab = tab_mut(account, config)?;
    if &tab.owner != owner.address() {
        return Err(MicropayError::WrongTab.into());
    }
    Ok(tab)
}

pub fn credit(account: &AccountView) -> Result<Ref<'_, Credit>, ProgramError> {
    view(account)
}

pub fn credit_mut(account: &mut AccountView) -> Result<RefMut<'_, Credit>, ProgramError> {
    view_mut(account)
}
