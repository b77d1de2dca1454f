//! Exit-code classification: bad input / usage (exit 2) versus failure (exit 1).
//! The bad-input error type is the stages' own, shared through `cevns_io`.

pub use cevns_io::stage::bad_input;

/// An error caused by bad input or usage (exit code 2).
pub type BadInput = cevns_io::stage::InputError;

/// 2 if any error in the chain is a [`BadInput`], else 1.
pub fn exit_code(e: &anyhow::Error) -> u8 {
    if e.chain().any(|c| c.downcast_ref::<BadInput>().is_some()) {
        2
    } else {
        1
    }
}
