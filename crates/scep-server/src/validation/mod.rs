//! Validators that decide on a new enrollment instead of the endpoint's
//! challenges: [`webhook`] asks a URL the MDM configured. They are called from
//! [`crate::operation`] and speak in its validated types; the HTTP they make is
//! theirs alone.

pub(crate) mod webhook;
