//! Advanced Security kinds.

pub mod advanced_security_alert;
