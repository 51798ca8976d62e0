//! Emits events as Anchor's `emit!` does: `sol_log_data([discriminator, body])`.

use micropay_interface::event::Event;

pub fn emit<E: Event>(event: &E) {
    #[cfg(target_os = "solana")]
    {
        let fields: [&[u8]; 2] = [&E::DISCRIMINATOR, bytemuck::bytes_of(event)];
        // SAFETY: `fields` is an array of valid slices, which is the syscall's input.
        unsafe {
            pinocchio::syscalls::sol_log_data(fields.as_ptr() as *const u8, fields.len() as u64)
        };
    }
    #[cfg(not(target_os = "solana"))]
    let _ = event;
}
