//! The KDL front-end. (Stub until the KDL loader lands.)

use super::model::NetworkIntent;
use crate::diagnostic::{Diag, code};

pub(super) fn parse(_text: &str) -> Result<NetworkIntent, Box<Diag>> {
    Err(Box::new(Diag::error(
        code::PARSE,
        "KDL intents are not supported yet",
    )))
}
